/** The report's scale sections: the large tick on two workers against one (issue 13.6), and the million (13.5). */
import { chainSummary, groupStats, pct, type Group, type RunRecord } from './report';
import type { TwoWorkersResult } from './scale';

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const mb = (b: number) => `${n0(b / 2 ** 20)} MB`;
const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const cpuPct = (r: RunRecord, name: string) => `${n0(((r.cpuSeconds[name] ?? 0) / (r.wallMs / 1000)) * 100)} %`;

export function twoWorkersSection(t: TwoWorkersResult, one: Group | undefined): string {
  const r = t.run;
  const o = one?.runs[0];
  const total = t.sentByWorker.reduce((a, b) => a + b, 0);
  const rows = [
    ...(o ? [`| one worker (the main ${n0(o.recipients)} tick above) | ${s1(o.wallMs)} | **${n0(o.emailsPerSec)}** | ${mb(o.peakRssBytes)} | ${cpuPct(o, 'worker')} | — | ${cpuPct(o, 'temporal')} | ${cpuPct(o, 'postgres')} | ${cpuPct(o, 'sink')} | all |`] : []),
    `| two workers | ${s1(r.wallMs)} | **${n0(r.emailsPerSec)}** | ${(r.workerPeakRssBytes ?? []).map(mb).join(' / ')} | ${cpuPct(r, 'worker 1')} | ${cpuPct(r, 'worker 2')} | ${cpuPct(r, 'temporal')} | ${cpuPct(r, 'postgres')} | ${cpuPct(r, 'sink')} | ${t.sentByWorker.map((s) => `${n0(s)} (${pct(s / total)})`).join(' / ')} |`,
  ];
  return `### Two workers share a run (${n0(t.recipients)} recipients)

The same tick as the main ${n0(t.recipients)} row, on **two worker processes** on this machine (same job, same worker
environment, so each has the same SMTP connections; both on one task queue, started before the tick). Each worker's
share is the increase of its own \`sendonce_emails_sent\` counter (its METRICS_PORT) over the tick; the sink counted
${n0(r.sent)} messages in all, the workers' counters ${n0(total)}. History: ${chainSummary(r.historyEvents ?? [])}.

| workers | wall | emails/s | peak RSS per worker | CPU worker 1 | CPU worker 2 | CPU temporal | CPU postgres | CPU sink | messages sent by each worker |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
${rows.join('\n')}`;
}

export function twoWorkersTarget(t: TwoWorkersResult | undefined, one: Group | undefined): string {
  const title = '8. **Two workers share a run** (reported against one; no target)';
  if (!t) return `${title} — not measured (BENCH_TWO_WORKERS=0 or no large tick).`;
  const total = t.sentByWorker.reduce((a, b) => a + b, 0);
  const shares = t.sentByWorker.map((s) => pct(s / total)).join(' / ');
  const o = one?.runs[0];
  return (
    `${title}: ${n0(t.recipients)} recipients in ${s1(t.run.wallMs)} = ${n0(t.run.emailsPerSec)} emails/s on two workers` +
    (o ? ` against ${s1(o.wallMs)} = ${n0(o.emailsPerSec)} emails/s on one (×${(t.run.emailsPerSec / o.emailsPerSec).toFixed(2)})` : '') +
    `; messages sent by each worker ${shares}${t.sentByWorker.every((s) => s > 0) ? '' : ' — **one worker sent nothing**'}.`
  );
}

export function hugeSection(huge: Group, small: Group | undefined): string {
  const h = huge.runs[0]!;
  const S = small && groupStats(small);
  return `### One tick of ${n0(h.recipients)} recipients (BENCH_HUGE=1${h.recipients === 1_000_000 ? '' : `, BENCH_HUGE_SIZE=${h.recipients}`})

One tick of ${n0(h.recipients)} recipients on a fresh worker with the main configuration: ${h.timedOut ? '**did not finish before the deadline**' : h.outcome}
in **${s1(h.wallMs)}** = **${n0(h.emailsPerSec)} emails/s**, worker peak RSS **${mb(h.peakRssBytes)}**${S ? ` (${n0(S.recipients)} tick: ${mb(S.peakRss)}, ×${(h.peakRssBytes / S.peakRss).toFixed(2)})` : ''},
${(h.pgStatements / Math.max(1, h.sent)).toFixed(2)} Postgres statements per email; history: ${chainSummary(h.historyEvents ?? [])}.`;
}

export function hugeTarget(huge: Group | undefined, small: Group | undefined): string {
  if (!huge) return '7. **A tick of 1,000,000 recipients** — not measured (runs only with BENCH_HUGE=1).';
  const h = huge.runs[0]!;
  const title = `7. **A tick of ${n0(h.recipients)} recipients finishes, worker RSS ≤ 1.2 × the ${small ? n0(groupStats(small).recipients) : 'small'} figure, every workflow run < 10,000 events**`;
  const S = small && groupStats(small);
  const rss = S ? h.peakRssBytes / S.peakRss : NaN;
  const maxEvents = Math.max(...(h.historyEvents ?? [NaN]));
  const met = !h.timedOut && h.outcome === 'completed' && rss <= 1.2 && maxEvents < 10_000;
  return (
    `${title} — ${met ? 'MET' : 'MISSED'}: ${h.timedOut ? 'did not finish' : `${h.outcome} in ${s1(h.wallMs)} (${n0(h.emailsPerSec)} emails/s)`}; ` +
    `RSS ${mb(h.peakRssBytes)}${S ? ` vs ${mb(S.peakRss)} = ×${rss.toFixed(2)}` : ' (no small tick to compare)'}; largest run ${n0(maxEvents)} events (${chainSummary(h.historyEvents ?? [])}).`
  );
}
