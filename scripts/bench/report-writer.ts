/**
 * Writes BENCHMARKS.md from one run's raw results (main.ts keeps them as JSON next to the report, so the text can
 * be re-rendered with BENCH_REPORT_FROM without measuring again). The tables are in report.ts, the targets in
 * report-targets.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LARGE, LARGE_DEADLINE_MS, log, OUT, QUICK, SMALL } from './config';
import { cpuPerEmailTable, cpuTable, groupStats, table, type Group, type RunRecord } from './report';
import { busiest, mainGroups, targets } from './report-targets';
import { steadyGroups, steadyTable } from './report-steady';
import { bigTableSection } from './report-big-table';
import { hugeSection, twoWorkersSection } from './report-scale';
import type { BigTableResult } from './big-table';
import type { TwoWorkersResult } from './scale';
import { method } from './report-method';

export interface Report {
  groups: Group[];
  /** The sizes of this run (absent in reports written before they were recorded: then the current settings). */
  sizes: { small: number; large: number; largeDeadlineMs: number };
  quick?: boolean;
  /** The main sendonce configuration's worker environment (variants change it). */
  mainEnv?: Record<string, string>;
  sweeps: Group[];
  variantGroups: Group[];
  /** Steady-state ticks (2nd, 3rd of a window) per main size. */
  steady?: Array<{ recipients: number; runs: RunRecord[] }>;
  /** Claims and prune with a big email_sends (BENCH_BIG_ROWS > 0). */
  bigTable?: BigTableResult;
  /** The large tick on two worker processes. */
  twoWorkers?: TwoWorkersResult;
  /** One tick of BENCH_HUGE_SIZE recipients (BENCH_HUGE=1). */
  huge?: Group;
  /** Sections that failed in this run, each with its first error line (main.ts: scaleSections). */
  notMeasured?: string[];
  machine: string;
  versions: Record<string, string>;
  loadBefore: string;
  loadAfter: string;
  startedAt: string;
  durationS: number;
  commit: string;
  /** Files under src/ with uncommitted changes when the benchmark ran. */
  dirtySrc: number;
}

/** A report read back from its JSON, with what older ones did not record filled in from the current settings. */
export function readReport(file: string): Report {
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Report>;
  return { ...r, sizes: r.sizes ?? { small: SMALL, large: LARGE, largeDeadlineMs: LARGE_DEADLINE_MS }, quick: r.quick ?? QUICK } as Report;
}

const n0 = (x: number) => x.toLocaleString('en-US');
const cores = os.cpus().length;

function results(report: Report): string {
  const { small, large } = report.sizes;
  const g = mainGroups(report);
  const S = g.small && groupStats(g.small);
  const B = g.large && groupStats(g.large);
  const ratios = (x: ReturnType<typeof groupStats>) =>
    g.limit && g.peer ? [(x.median / groupStats(g.limit).median).toFixed(2), (x.median / groupStats(g.peer).median).toFixed(2)] : undefined;
  const rs = S && ratios(S);
  const rb = B && ratios(B);
  return `## Results

${table(report.groups)}
${rs ? `\nRatios (median emails/s): **sendonce/limit = ${rs[0]}**, **sendonce/peer = ${rs[1]}**${rb ? ` (${n0(large)}-recipient tick: ${rb[0]} and ${rb[1]})` : ''}.\n` : ''}${
    report.sweeps.length ? `\n### Concurrency sweeps (${n0(small)} recipients, one run each)\n\n${table(report.sweeps)}\n` : ''
  }${report.variantGroups.length ? `\n### sendonce variants (${n0(small)} recipients; each changes one setting of the main configuration)\n\n${table(report.variantGroups)}\n` : ''}
### CPU by process (% of one core over the runs' wall time; ${cores} cores = ${cores * 100} %)

${cpuTable([...report.groups, ...report.variantGroups])}

CPU milliseconds per email:

${cpuPerEmailTable([...report.groups, ...report.variantGroups])}

(worker = the sending process; driver = this benchmark's own process, which also polls the schedule and reads counters;
postgres = the postmaster and all its backends.)${steadySection(report)}`;
}

function steadySection(report: Report): string {
  const groups = steadyGroups(report.groups, report.steady ?? []);
  if (groups.length === 0) return '';
  return `

### Steady state: the next ticks of a window (nothing new to send)

A deployment ticking every 5 minutes with daily windows finds nothing new in 287 of its 288 ticks a day. After each
size's sending ticks, the same worker runs two more ticks of the **same window** without resetting anything: every key
is already \`sent\`, so each must end completed with sent 0, deduped = recipients and no message at the sink (checked;
the benchmark stops otherwise). Each page's finished keys are dropped in one statement before any send is scheduled
(src/activities/fetch-recipient-page.ts), and pages left with nothing to send are read on within the same activity (up to 20 pages
or 2 s per call), so such a tick is one page activity per 20,000 recipients. Statements counted as above
(pg_stat_statements), divided by the recipients — transactions are left out here: pg_stat_database hears of an idle
backend's last transactions up to 10 s late, which for a sub-second tick counts the previous tick's; history events
summed over the chain's runs; CPU in milliseconds per tick (mean), "all" = every measured process.

${steadyTable(groups)}`;
}

/** Big tables, two workers, the million: each only when measured in this run. */
function scaleSections(report: Report): string {
  const g = mainGroups(report);
  const parts = [
    report.bigTable && bigTableSection(report.bigTable),
    report.twoWorkers && twoWorkersSection(report.twoWorkers, g.large),
    report.huge && hugeSection(report.huge, g.small),
  ].filter(Boolean);
  if (report.notMeasured?.length) {
    parts.push(`## Not measured in this run\n\nThese sections failed; the figures above are unaffected:\n\n${report.notMeasured.map((m) => `- ${m}`).join('\n')}`);
  }
  return parts.length ? `\n${parts.join('\n\n')}\n` : '';
}

function machineSection(report: Report): string {
  const busy = parseFloat(report.loadBefore) > 1 || parseFloat(report.loadAfter) > 2;
  return `## Machine and versions

- ${report.machine}
- Load average (1/5/15 min) before: ${report.loadBefore}; after: ${report.loadAfter}.` +
    (busy
      ? ' **The load average before the run was above 1**: something was running on these 2 cores just before or during it (the 1-minute average also carries earlier runs for a few minutes), so absolute figures are noisy; scenarios measured at different moments (limit, peer, sendonce) carry that noise into the ratios.'
      : '') +
    `
${Object.entries(report.versions).map(([k, v]) => `- ${k}: ${v}`).join('\n')}
- Command: \`${report.quick ? 'BENCH_QUICK=1 ' : ''}${report.huge ? 'BENCH_HUGE=1 ' : ''}npm run bench\`
- Commit: ${report.commit}${report.dirtySrc ? ` (working tree with uncommitted changes in ${report.dirtySrc} file(s) under src/ by parallel work)` : ''}`;
}

export function write(report: Report): void {
  const g = mainGroups(report);
  const profile = [g.small, g.large]
    .filter((x): x is Group => x !== undefined)
    .map((x) => `- ${x.title}: ${busiest(x).map((b) => `${b.n} ${b.pct.toFixed(0)} %`).join(', ')} of one core (the machine has ${cores}).`)
    .join('\n');
  const nextStepsFile = path.join(__dirname, 'next-steps.md');
  const nextSteps = fs.existsSync(nextStepsFile) ? fs.readFileSync(nextStepsFile, 'utf8') : '';

  const md = `# Benchmarks

Written by \`npm run bench\` (scripts/bench/main.ts) on ${report.startedAt}; the whole run took ${(report.durationS / 60).toFixed(1)} min.${process.env.BENCH_REPORT_FROM ? ' (Text re-rendered from that run\'s raw results with BENCH_REPORT_FROM; figures unchanged.)' : ''}
${report.quick ? '\n**BENCH_QUICK run: development sizes, one repetition — not the figures of record.**\n' : ''}
${method(report)}

${results(report)}
${scaleSections(report)}
## Targets

${targets(report).join('\n')}

Where the time goes (CPU during the sendonce ticks, busiest first):
${profile}

${machineSection(report)}
${nextSteps ? `\n${nextSteps.trim()}\n` : ''}`;
  fs.writeFileSync(OUT, md);
  log(`wrote ${OUT}`);
}
