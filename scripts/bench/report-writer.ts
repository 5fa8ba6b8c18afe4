/**
 * Writes BENCHMARKS.md from one run's raw results (main.ts keeps them as JSON next to the report, so the text can
 * be re-rendered with BENCH_REPORT_FROM without measuring again). The tables are in report.ts, the targets in
 * report-targets.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LARGE, LARGE_DEADLINE_MS, LIMIT_CONCURRENCY, log, OUT, PEER_CONCURRENCY, QUICK, SMALL } from './config';
import { cpuPerEmailTable, cpuTable, groupStats, table, type Group, type RunRecord } from './report';
import { busiest, mainGroups, targets } from './report-targets';
import { steadyGroups, steadyTable } from './report-steady';
import { workerV8Flags } from './sendonce';

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

function method(report: Report): string {
  return `Every scenario sends the same daily-digest message (same template, same \`email_sends\` rows and key shape
\`email:{template}:{userId}:{window}\`) to the same **counting SMTP sink** (smtp-server, no parsing, its own process),
against the same embedded Postgres (fsync and synchronous_commit off, as in the test cluster) and redis-server,
everything on loopback. Emails/s = messages counted by the sink ÷ wall time (sendonce: trigger call → workflow result,
i.e. lock, pages, sends, dead-letter branch, lock release and run summary included).

- **limit** — naive pipeline, no orchestrator: page users, then per recipient INSERT claim → nodemailer (pooled, as
  many connections as lanes) → UPDATE sent, with N lanes; the fastest N of ${LIMIT_CONCURRENCY.join('/')} is reported.
- **peer** — the same claim→send→mark driven by BullMQ (one job per recipient, attempts 5 with backoff, completed
  jobs removed) on the same Redis; producer (addBulk by pages of 1,000) and worker in one process; fastest worker
  concurrency of ${PEER_CONCURRENCY.join('/')} is reported.
- **sendonce** — one real tick per run: a schedule with a unique id, \`trigger(ScheduleOverlapPolicy.SKIP)\` →
  \`batchWorkflow\` → send activities of \`chunkSize\` recipients (each with its own claim, SMTP call and outcome row)
  → sink, with the Redis lock + fence, claims, dead-letter branch and run summary on, the worker being
  \`src/worker.ts\` as a child process (node ${workerV8Flags().join(' ')}, as package.json's \`worker\` script and the
  Dockerfile run it) with sendonce's job defaults (chunkSize 100, maxInFlight 400, pageSize 1,000 read
  ahead, continue-as-new checked after 4,000 events, maxConcurrentActivityTaskExecutions 100) and
  ${report.mainEnv ? Object.entries(report.mainEnv).map(([k, v]) => `${k}=${v}`).join(', ') : 'SMTP_MAX_CONNECTIONS=5'}
  (${mainGroups(report).limit ? 'as many SMTP connections as the fastest naive pipeline used' : 'no baselines in this run (BENCH_BASELINES=0): BENCH_SMTP_CONNECTIONS'}). Fresh worker process per size.

"Worker peak RSS" is the peak RSS of the process that sends: for the naive and BullMQ children the kernel's VmHWM
(start-up included) and sampled VmRSS; for the sendonce worker VmRSS sampled every 200 ms during the ticks (a fresh
worker per size; its start-up, which bundles the workflow code, happens before the first tick). Round trips: Postgres statements from pg_stat_statements (BEGIN/COMMIT included; in parentheses
transactions from pg_stat_database), Redis commands from \`INFO stats\` total_commands_processed, both as deltas over
the run, divided by the emails sent. History events: per workflow run of the continue-as-new chain (fetchHistory).`;
}

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
(src/activities/pages.ts), so such a tick is one page activity per 1,000 recipients (pageSize). Statements and
transactions counted as above, divided by the recipients; history events summed over the chain's runs; CPU in
milliseconds per tick (mean), "all" = every measured process.

${steadyTable(groups)}`;
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
- Command: \`${report.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench\`
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

## Targets

${targets(report).join('\n')}

Where the time goes (CPU during the sendonce ticks, busiest first):
${profile}

${machineSection(report)}
${nextSteps ? `\n${nextSteps.trim()}\n` : ''}`;
  fs.writeFileSync(OUT, md);
  log(`wrote ${OUT}`);
}
