/** Turns the benchmark's run records into BENCHMARKS.md (tables, ratios, machine, versions, targets). */
export interface RunRecord {
  scenario: 'limit' | 'peer' | 'sendonce';
  /** e.g. "c=20" or "default" / "tuned". */
  variant: string;
  /** sendonce: the first tick of a window ('sending') or a later one with nothing new ('steady'); absent = sending. */
  tick?: 'sending' | 'steady';
  recipients: number;
  /** Messages counted at the sink. */
  sent: number;
  /** sendonce: the run summary's deduped count and window. */
  deduped?: number;
  window?: string;
  wallMs: number;
  emailsPerSec: number;
  peakRssBytes: number;
  /** Ticks on several workers: each one's peak (peakRssBytes is the largest). */
  workerPeakRssBytes?: number[];
  pgStatements: number;
  pgTransactions: number;
  redisCommands: number;
  /** Start of the run (tick: workflow start) → first message at the sink. */
  firstMessageMs: number | null;
  /** sendonce only: trigger call → first message. */
  triggerToFirstMessageMs?: number | null;
  historyEvents?: number[];
  cpuSeconds: Record<string, number>;
  outcome?: string;
  timedOut?: boolean;
}

export interface Group {
  title: string;
  scenario: RunRecord['scenario'];
  runs: RunRecord[];
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

export function chainSummary(events: number[]): string {
  if (events.length === 0) return 'no history';
  const total = events.reduce((a, b) => a + b, 0);
  return events.length === 1
    ? `1 run of ${total.toLocaleString('en-US')} events`
    : `${events.length} runs, ${Math.min(...events)}–${Math.max(...events)} events each, ${total.toLocaleString('en-US')} in total`;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(0)} %`;
}

export function groupStats(g: Group) {
  const eps = g.runs.map((r) => r.emailsPerSec);
  const sent = g.runs.reduce((s, r) => s + r.sent, 0) || NaN;
  const history = g.runs.flatMap((r) => r.historyEvents ?? []);
  const first = g.runs.map((r) => r.firstMessageMs).filter((x): x is number => x !== null);
  return {
    runs: g.runs.length,
    recipients: g.runs[0]?.recipients ?? 0,
    min: Math.min(...eps),
    median: median(eps),
    max: Math.max(...eps),
    wallMs: median(g.runs.map((r) => r.wallMs)),
    peakRss: Math.max(...g.runs.map((r) => r.peakRssBytes)),
    pgPerEmail: g.runs.reduce((s, r) => s + r.pgStatements, 0) / sent,
    pgTxPerEmail: g.runs.reduce((s, r) => s + r.pgTransactions, 0) / sent,
    redisPerEmail: g.runs.reduce((s, r) => s + r.redisCommands, 0) / sent,
    historyMax: history.length ? Math.max(...history) : NaN,
    historyRuns: history.length ? Math.round(history.length / g.runs.length) : NaN,
    firstMs: median(first),
    timedOut: g.runs.some((r) => r.timedOut),
  };
}

export function table(groups: Group[]): string {
  const head =
    '| scenario | recipients | runs | emails/s min / **median** / max | wall (median) | worker peak RSS | PG statements / email (transactions) | Redis commands / email | history events per workflow run (max; runs per tick) | start → first message at sink (median) |\n' +
    '|---|---:|---:|---|---:|---:|---:|---:|---|---:|';
  const rows = groups.map((g) => {
    const s = groupStats(g);
    const hist = Number.isFinite(s.historyMax) ? `${f0(s.historyMax)}; ${s.historyRuns} run(s)` : 'n/a (no orchestrator history)';
    return `| ${g.title}${s.timedOut ? ' **(did not finish: deadline)**' : ''} | ${f0(s.recipients)} | ${s.runs} | ${f0(s.min)} / **${f0(s.median)}** / ${f0(s.max)} | ${f1(s.wallMs / 1000)} s | ${mb(s.peakRss)} | ${f2(s.pgPerEmail)} (${f2(s.pgTxPerEmail)}) | ${f2(s.redisPerEmail)} | ${hist} | ${f0(s.firstMs)} ms |`;
  });
  return [head, ...rows].join('\n');
}

/** CPU use per process during each group, as % of one core over the run's wall time (2 cores = 200 %). */
export function cpuTable(groups: Group[]): string {
  const names = [...new Set(groups.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.cpuSeconds))))];
  const head = `| scenario | ${names.join(' | ')} | total |\n|---|${names.map(() => '---:').join('|')}|---:|`;
  const rows = groups.map((g) => {
    const wall = g.runs.reduce((s, r) => s + r.wallMs, 0) / 1000;
    const per = names.map((n) => g.runs.reduce((s, r) => s + (r.cpuSeconds[n] ?? 0), 0));
    const total = per.reduce((a, b) => a + b, 0);
    return `| ${g.title} | ${per.map((c) => `${f0((c / wall) * 100)} %`).join(' | ')} | ${f0((total / wall) * 100)} % |`;
  });
  return [head, ...rows].join('\n');
}

export function cpuPerEmailTable(groups: Group[]): string {
  const names = [...new Set(groups.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.cpuSeconds))))];
  const head = `| scenario | ${names.join(' | ')} | total |\n|---|${names.map(() => '---:').join('|')}|---:|`;
  const rows = groups.map((g) => {
    const sent = g.runs.reduce((s, r) => s + r.sent, 0) || NaN;
    const per = names.map((n) => g.runs.reduce((s, r) => s + (r.cpuSeconds[n] ?? 0), 0));
    const total = per.reduce((a, b) => a + b, 0);
    return `| ${g.title} | ${per.map((c) => f2((c / sent) * 1000)).join(' | ')} | ${f2((total / sent) * 1000)} |`;
  });
  return [head, ...rows].join('\n');
}
