/** The big-table section of the report (issue 13.4) and its target: claims on a big table, and the batched prune. */
import type { BigTableResult } from './big-table';
import type { ClaimsRep } from './claims-rate';
import { median } from './report';

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const mb = (b: number) => `${n0(b / 2 ** 20)} MB`;
const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (xs: ClaimsRep[]) => median(xs.map((x) => x.perSec));
const spread = (xs: ClaimsRep[]) => `${n0(Math.min(...xs.map((x) => x.perSec)))}–${n0(Math.max(...xs.map((x) => x.perSec)))}`;

export function bigTableSection(b: BigTableResult): string {
  const { seed, prune } = b;
  const rows = b.claims.map((c) => {
    const [e, g] = [rate(c.empty), rate(c.big)];
    return `| ${c.concurrency} | ${n0(c.keys)} × ${c.empty.length} | **${n0(e)}** (${spread(c.empty)}) | **${n0(g)}** (${spread(c.big)}) | ${((g / e) * 100).toFixed(0)} % |`;
  });
  const sorted = [...prune.batchMs].sort((x, y) => x - y);
  return `### Big tables: claims and retention with ${n0(seed.rows)} rows of history

\`email_sends\` in its own database with ${n0(seed.rows)} rows (${n0(seed.users)} users × ${seed.days} past days of the daily digest,
keys \`email:daily-digest:<id>:<day>\`, the newest day 3 days ago; one in a thousand \`dead\` with its dead letter, one in a
thousand \`unknown\`, the rest \`sent\`), written by one \`INSERT … SELECT\` over generate_series in creation-time order with
the migrations' indexes in place: **${s1(seed.insertMs)}** (then ${n0(seed.deadLetters)} dead letters ${s1(seed.deadLettersMs)},
\`VACUUM ANALYZE\` ${s1(seed.vacuumMs)}); table ${mb(seed.tableBytes)}, its indexes ${mb(seed.indexBytes)}.

**Claims per second** — the worker's claim path without SMTP: src/sends \`claim()\` then \`markSent()\` per key, with N
sends in flight on one pool of the worker's size (20 connections), so concurrent calls are grouped into one statement each
as in the worker; fresh keys (a window no row has), recipients 1…${n0(b.claims[0]?.keys ?? 0)}. Rounds alternate between the
empty and the big table (one untimed warm-up round each first); median of the rounds (min–max):

| in flight | keys × rounds | empty table, claims/s | ${n0(seed.rows)} rows, claims/s | big ÷ empty |
|---:|---:|---:|---:|---:|
${rows.join('\n')}

**Retention** — src/pruning.ts \`prune()\` of the oldest tenth of the days (rows created before ${prune.horizon.slice(0, 10)}), batches of
${n0(prune.batchSize)} rows, one statement each (its own transaction)${prune.stoppedAfterMs ? ` — **stopped at the ${s1(prune.stoppedAfterMs)} limit (BENCH_PRUNE_MAX_S) before it was done**` : ''}: **${n0(prune.deleted)} rows** (and ${n0(prune.deadLetters)} dead letters) in
**${s1(prune.totalMs)}** = ${n0(prune.deleted / (prune.totalMs / 1000))} rows/s, ${prune.batchMs.length} statements; per statement as the client
saw it median ${n0(median(sorted))} ms, slowest **${n0(sorted[sorted.length - 1] ?? NaN)} ms**; as Postgres timed the batch statement
(pg_stat_statements, ${prune.serverCalls} calls): mean ${n0(prune.serverMeanMs)} ms, slowest **${n0(prune.serverMaxMs)} ms** — the longest any
batch held its row locks. (Client times: the first includes recording the horizon, the last is the \`job_runs\` pass.)`;
}

/** Target 6: claims on the big table within 20 % of the empty table, at every concurrency measured. */
export function bigTableTarget(b: BigTableResult | undefined): string {
  const title = '6. **Claims per second with a big `email_sends` within 20 % of an empty table**';
  if (!b) return `${title} — not measured (BENCH_BIG_ROWS=0).`;
  const ratios = b.claims.map((c) => ({ c: c.concurrency, r: rate(c.big) / rate(c.empty) }));
  const worst = Math.min(...ratios.map((x) => x.r));
  return (
    `${title} — ${worst >= 0.8 ? 'MET' : 'MISSED'} with ${n0(b.seed.rows)} rows: big ÷ empty = ` +
    `${ratios.map((x) => `${(x.r * 100).toFixed(0)} % at ${x.c} in flight`).join(', ')}` +
    `${worst < 0.8 ? ` (worst ${((0.8 - worst) * 100).toFixed(0)} points under 80 %)` : ''}. Retention (no target, measured): ${n0(b.prune.deleted)} rows pruned in ` +
    `${s1(b.prune.totalMs)}${b.prune.stoppedAfterMs ? ' (stopped at the time limit)' : ''}, slowest batch statement ${n0(b.prune.serverMaxMs)} ms.`
  );
}
