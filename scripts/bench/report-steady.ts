/**
 * The steady-state rows (issue 13.2): the 2nd and 3rd tick of a window, where every key is already sent, next to
 * the sending tick of the same size — and their target.
 */
import { groupStats, median, type Group, type RunRecord } from './report';

export interface SteadyGroup {
  recipients: number;
  /** The size's sending ticks (the main group's runs) and the steady ticks after them. */
  sending: RunRecord[];
  steady: RunRecord[];
}

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const s1 = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const events = (r: RunRecord) => sum(r.historyEvents ?? []);
const perRecipient = (r: RunRecord) => r.pgStatements / r.recipients;
const cpuMs = (r: RunRecord, name?: string) => 1000 * (name ? (r.cpuSeconds[name] ?? 0) : sum(Object.values(r.cpuSeconds)));

function row(label: string, runs: RunRecord[], sendingWallMs: number): string {
  const mean = (f: (r: RunRecord) => number) => sum(runs.map(f)) / runs.length;
  const wall = median(runs.map((r) => r.wallMs));
  const r0 = runs[0]!;
  const outcome = runs.map((r) => `${r.outcome} ${n0(r.sent)} / ${n0(r.deduped ?? NaN)}`).join('; ');
  const hist = runs.map((r) => `${n0(events(r))}${(r.historyEvents?.length ?? 0) > 1 ? ` (${r.historyEvents!.length} runs)` : ''}`).join(', ');
  const cpu = ['worker', 'temporal', 'postgres'].map((n) => n0(mean((r) => cpuMs(r, n)))).join(' / ');
  return (
    `| ${n0(r0.recipients)} | ${label} | ${outcome} | ${s1(wall)} | ${r0.tick === 'steady' ? `${((wall / sendingWallMs) * 100).toFixed(1)} %` : '100 %'} | ` +
    `${mean(perRecipient).toFixed(4)} | ${hist} | ${cpu} / **${n0(mean((r) => cpuMs(r)))}** |`
  );
}

export function steadyTable(groups: SteadyGroup[]): string {
  const head =
    '| recipients | tick | outcome, sent / deduped | wall | wall ÷ sending tick | PG statements / recipient | history events (all runs of the chain) | CPU ms per tick: worker / temporal / postgres / **all** |\n' +
    '|---:|---|---|---:|---:|---:|---|---:|';
  const rows = groups.flatMap((g) => {
    const sendingWall = median(g.sending.map((r) => r.wallMs));
    return [
      row(`1st: sending (${g.sending.length === 1 ? 'one tick' : `median of ${g.sending.length}`})`, g.sending, sendingWall),
      ...g.steady.map((r, i) => row(`${i + 2}${i === 0 ? 'nd' : 'rd'}: steady`, [r], sendingWall)),
    ];
  });
  return [head, ...rows].join('\n');
}

/** Target 5 of the report, from the worst steady tick of each size. */
export function steadyTarget(groups: SteadyGroup[], sizes: { small: number; large: number }): string {
  const title =
    `5. **Steady-state tick (2nd and 3rd of a window, nothing new to send): ≤ 0.05 Postgres statements per recipient, ` +
    `wall ≤ 10 % of the sending tick of the same size, ≤ 100 history events at ${n0(sizes.small)}; ${n0(sizes.large)} in under 5 s**`;
  const measured = groups.filter((g) => g.steady.length > 0);
  if (measured.length === 0) return `${title} — not measured (no steady ticks in this run).`;
  const misses: string[] = [];
  const parts = measured.map((g) => {
    const sendingWall = median(g.sending.map((r) => r.wallMs));
    const worst = (f: (r: RunRecord) => number) => Math.max(...g.steady.map(f));
    const [stmts, wall, ev] = [worst(perRecipient), worst((r) => r.wallMs), worst(events)];
    const share = wall / sendingWall;
    const n = n0(g.recipients);
    if (stmts > 0.05) misses.push(`${n}: ${stmts.toFixed(3)} statements per recipient`);
    if (share > 0.1) misses.push(`${n}: wall ${(share * 100).toFixed(1)} % of the sending tick (needs ×${(share / 0.1).toFixed(1)} faster)`);
    if (g.recipients === sizes.small && ev > 100) misses.push(`${n}: ${ev} history events (${ev - 100} over)`);
    if (g.recipients === sizes.large && wall >= 5000) misses.push(`${n}: ${s1(wall)} (${s1(wall - 5000)} over 5 s)`);
    return `${n}: ≤ ${stmts.toFixed(4)} statements per recipient, ≤ ${s1(wall)} = ${(share * 100).toFixed(1)} % of the sending tick (${s1(sendingWall)}), ≤ ${n0(ev)} history events`;
  });
  const largeMeasured = measured.some((g) => g.recipients === sizes.large);
  const verdict = misses.length ? 'MISSED' : largeMeasured ? 'MET' : `MET at ${n0(sizes.small)}, NOT MEASURED at ${n0(sizes.large)}`;
  return `${title} — ${verdict}: ${parts.join('; ')} (worst of ${measured[0]!.steady.length} steady ticks each).${misses.length ? ` Missed: ${misses.join('; ')}.` : ''}`;
}

/** The steady groups of a run: each main size's sending ticks with the steady ticks that followed them. */
export function steadyGroups(main: Group[], steady: Array<{ recipients: number; runs: RunRecord[] }>): SteadyGroup[] {
  return steady
    .filter((s) => s.runs.length > 0)
    .map((s) => ({ recipients: s.recipients, sending: main.find((g) => g.scenario === 'sendonce' && groupStats(g).recipients === s.recipients)?.runs ?? [], steady: s.runs }));
}
