/** The method text of BENCHMARKS.md: what every scenario does, how each figure is measured, and the knobs. */
import { LIMIT_CONCURRENCY, PEER_CONCURRENCY } from './config';
import { mainGroups } from './report-targets';
import type { Report } from './report-writer';
import { workerV8Flags } from './sendonce';

export function method(report: Report): string {
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
the run, divided by the emails sent. History events: per workflow run of the continue-as-new chain (fetchHistory).

After the main sizes: the steady-state ticks, the big-table section (claims and retention with a big \`email_sends\`),
the large tick on two workers, and — only when asked — one tick of a million. The sizes and sections are set by the
environment (all optional; the header of scripts/bench/main.ts lists them too):

${KNOBS.map(([k, v]) => `- \`${k}\` — ${v}`).join('\n')}`;
}

/** Every variable the benchmark reads, with its default (config.ts reads them). */
const KNOBS: Array<[string, string]> = [
  ['BENCH_QUICK=1', 'development sizes (1,000 / 3,000 recipients, 200,000 history rows, 1 repetition), report to a temp file'],
  ['BENCH_SMALL, BENCH_LARGE, BENCH_REPS', 'the two main sizes (10,000 and 100,000) and repetitions of the small one (3)'],
  ['BENCH_SKIP_LARGE=1', 'no large tick (and so no two-worker tick)'],
  ['BENCH_STEADY=0', 'no steady-state ticks (default: two after each main size)'],
  ['BENCH_BIG_ROWS', 'rows of history in the big-table section (default 10,000,000; 0 skips the section)'],
  ['BENCH_CLAIM_KEYS, BENCH_CLAIM_REPS', 'claims per round and rounds per table and concurrency (10,000 and 5)'],
  ['BENCH_PRUNE_MAX_S', 'the retention delete is stopped and reported as such after this long (600)'],
  ['BENCH_TWO_WORKERS=0', 'no tick on two workers'],
  ['BENCH_HUGE=1, BENCH_HUGE_SIZE', 'one tick of BENCH_HUGE_SIZE recipients (default 1,000,000), only when asked'],
  ['BENCH_VARIANTS', '0 for no sendonce variants, or "name:K=V,K=V;…" instead of the default list'],
  ['BENCH_BASELINES=0', 'no limit / peer (development); sendonce then gets BENCH_SMTP_CONNECTIONS (default 50)'],
  ['BENCH_LARGE_DEADLINE_MS, BENCH_HUGE_DEADLINE_MS', 'when a large (20 min) or huge (110 min) tick is stopped and reported unfinished'],
  ['BENCH_DEBUG=1', "the worker's RSS once a second during each tick, in the log"],
  ['BENCH_WORKER_NODE_ARGS', 'node flags for the sendonce worker instead of the deployed ones (e.g. --cpu-prof)'],
  ['BENCH_OUT, BENCH_REPORT_FROM', 'where the report goes; re-render a report from a run\'s raw JSON without measuring'],
];
