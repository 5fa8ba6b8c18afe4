/** The report's "Targets" section: each target stated MET or MISSED from the measured numbers, with the gap. */
import { chainSummary, groupStats, median, pct, type Group } from './report';
import type { Report } from './report-writer';
import { steadyGroups, steadyTarget } from './report-steady';
import { bigTableTarget } from './report-big-table';
import { hugeTarget, twoWorkersTarget } from './report-scale';

const n0 = (x: number) => x.toLocaleString('en-US');

/** The main groups by their titles: limit, peer and the sendonce sizes. */
export function mainGroups(report: Report) {
  const byTitle = (s: string) => report.groups.find((g) => g.title.startsWith(s));
  return {
    limit: byTitle('limit'),
    peer: byTitle('peer'),
    small: byTitle(`sendonce ${n0(report.sizes.small)}`),
    large: byTitle(`sendonce ${n0(report.sizes.large)}`),
  };
}

function sendingTargets(report: Report): string[] {
  const { small, large } = report.sizes;
  const g = mainGroups(report);
  const out: string[] = [];
  if (g.limit && g.peer && g.small) {
    const [L, P, S] = [groupStats(g.limit), groupStats(g.peer), groupStats(g.small)];
    const r1l = S.median / L.median;
    const r1p = S.median / P.median;
    out.push(
      `1. **${n0(small)}-recipient tick ≥ 0.8 × limit and ≥ peer** — ${r1l >= 0.8 && r1p >= 1 ? 'MET' : 'MISSED'}: ` +
        `sendonce ${S.median.toFixed(0)} emails/s = ${pct(r1l)} of the limit (${L.median.toFixed(0)}/s; target ≥ 80 %` +
        `${r1l < 0.8 ? `, short by ${(0.8 * L.median - S.median).toFixed(0)} emails/s, needs ×${((0.8 * L.median) / S.median).toFixed(1)}` : ''}) and ` +
        `${pct(r1p)} of the peer (${P.median.toFixed(0)}/s${r1p < 1 ? `, short by ${(P.median - S.median).toFixed(0)} emails/s, needs ×${(P.median / S.median).toFixed(1)}` : ''}).`,
    );
  } else {
    out.push('1. not measured (no limit, peer or small sendonce tick in this run).');
  }
  if (g.large && g.small) {
    const [S, B] = [groupStats(g.small), groupStats(g.large)];
    const wall = B.wallMs / 1000;
    const finished = !B.timedOut;
    const projected = finished ? wall : large / B.median;
    out.push(
      `2. **${n0(large)}-recipient tick within 5 minutes** — ${finished && wall <= 300 ? 'MET' : 'MISSED'}: ` +
        (finished
          ? `${wall.toFixed(0)} s (${B.median.toFixed(0)} emails/s)`
          : `not finished at the ${(report.sizes.largeDeadlineMs / 1000).toFixed(0)} s deadline (${g.large.runs[0]!.sent} sent, ${B.median.toFixed(0)} emails/s → ≈ ${projected.toFixed(0)} s projected)`) +
        (projected > 300 ? `; ${(projected - 300).toFixed(0)} s over (×${(projected / 300).toFixed(1)}); it needs ≥ ${(large / 300).toFixed(0)} emails/s sustained.` : '.'),
    );
    const rss = B.peakRss / S.peakRss;
    out.push(
      `3. **Worker peak RSS at ${n0(large)} ≤ 1.2 × at ${n0(small)}; history per run < 10,000 events** — ` +
        `${rss <= 1.2 && Math.max(S.historyMax, B.historyMax) < 10_000 ? 'MET' : 'MISSED'}: RSS ${(B.peakRss / 2 ** 20).toFixed(0)} MB vs ${(S.peakRss / 2 ** 20).toFixed(0)} MB = ×${rss.toFixed(2)}` +
        `${rss > 1.2 ? ` (over by ${((rss - 1.2) * S.peakRss / 2 ** 20).toFixed(0)} MB)` : ''}; ` +
        `largest workflow run ${Math.max(S.historyMax, B.historyMax).toFixed(0)} events (${chainSummary(g.large.runs[0]!.historyEvents ?? [])} in the ${n0(large)} chain; ${chainSummary(g.small.runs[0]!.historyEvents ?? [])} in a ${n0(small)} chain).`,
    );
  } else {
    out.push('2. / 3. not measured (no large tick in this run).');
  }
  const allTicks = [...(g.small?.runs ?? []), ...(g.large?.runs ?? [])];
  if (allTicks.length) {
    const firsts = allTicks.map((r) => r.firstMessageMs ?? NaN);
    const worstFirst = Math.max(...firsts);
    out.push(
      `4. **Tick start → first message under 1 s** — ${worstFirst < 1000 ? 'MET' : 'MISSED'}: workflow start → first message at the sink ` +
        `${firsts.map((x) => `${x.toFixed(0)} ms`).join(', ')} (median ${median(firsts).toFixed(0)} ms); from the trigger call: ` +
        `${allTicks.map((r) => `${r.triggerToFirstMessageMs} ms`).join(', ')}.` +
        (worstFirst >= 1000 ? ` Worst over by ${(worstFirst - 1000).toFixed(0)} ms.` : ''),
    );
  }
  return out;
}

export function targets(report: Report): string[] {
  const g = mainGroups(report);
  return [
    ...sendingTargets(report),
    steadyTarget(steadyGroups(report.groups, report.steady ?? []), report.sizes),
    bigTableTarget(report.bigTable),
    hugeTarget(report.huge, g.small),
    twoWorkersTarget(report.twoWorkers, g.large),
  ];
}

/** Where the time goes: the busiest processes during a group's ticks, as % of one core. */
export function busiest(g: Group): Array<{ n: string; pct: number }> {
  const wall = g.runs.reduce((s, r) => s + r.wallMs, 0) / 1000;
  const names = Object.keys(g.runs[0]!.cpuSeconds);
  return names
    .map((n) => ({ n, pct: (g.runs.reduce((s, r) => s + (r.cpuSeconds[n] ?? 0), 0) / wall) * 100 }))
    .sort((a, b) => b.pct - a.pct);
}
