/**
 * `npm run bench`: in one run, on this machine, against one counting SMTP sink —
 *   1. limit:    the naive pipeline (claim → SMTP → mark, no orchestrator) at several concurrencies;
 *   2. peer:     the same work driven by BullMQ on the same Redis;
 *   3. sendonce: real schedule ticks (trigger → batch workflow → activities → sink), small and large, each
 *                followed by two steady-state ticks of the same window (nothing new to send); the large tick
 *                again on two worker processes;
 *   4. big tables: claims and the retention delete with a big email_sends (big-table.ts);
 *   5. with BENCH_HUGE=1, one tick of a million recipients.
 * Then writes BENCHMARKS.md (report-writer.ts). Starts its own Postgres, Redis and Temporal dev server on free
 * loopback ports and stops everything it started, also on failure and Ctrl-C.
 *
 *   BENCH_QUICK=1        1,000 / 3,000 recipients, 1 repetition, report to a temp file (development)
 *   BENCH_SMALL / BENCH_LARGE / BENCH_REPS   override the sizes and repetitions
 *   BENCH_SKIP_LARGE=1   no large tick
 *   BENCH_BASELINES=0    no limit / peer (development); sendonce then gets BENCH_SMTP_CONNECTIONS (default 50)
 *   BENCH_STEADY=0       no steady-state ticks (default: the 2nd and 3rd tick of the window after each main size)
 *   BENCH_TWO_WORKERS=0  no large tick on two worker processes
 *   BENCH_BIG_ROWS       rows of email_sends history for the big-table section (default 10,000,000; 0 skips it;
 *                        quick: 200,000); BENCH_CLAIM_KEYS / BENCH_CLAIM_REPS: claims per round, rounds;
 *                        BENCH_PRUNE_MAX_S: stop the retention delete after this long (default 600)
 *   BENCH_HUGE=1         also one tick of BENCH_HUGE_SIZE recipients (default 1,000,000; BENCH_HUGE_DEADLINE_MS)
 *   BENCH_VARIANTS=0     no sendonce variants; "name:K=V,K=V;…" other ones (worker env; default list in config.ts)
 *   BENCH_WORKER_NODE_ARGS  extra node flags for the sendonce worker (e.g. --cpu-prof --cpu-prof-dir=DIR)
 *   BENCH_LARGE_DEADLINE_MS when the large tick is stopped and reported unfinished (20 min; quick 3 min)
 *   BENCH_DEBUG=1        the worker's RSS once a second during each tick, in the log
 *   BENCH_OUT            where to write the report (default BENCHMARKS.md; quick: a temp file)
 *   BENCH_REPORT_FROM    re-render the report from a run's raw results (JSON; its path is logged) without measuring
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAverage } from './measure';
import type { Group, RunRecord } from './report';
import { readReport, write, type Report } from './report-writer';
import { TickDriver } from './sendonce';
import { seedUsers, stops } from './services';
import { BASELINES, BIG_ROWS, elapsedS, HUGE, HUGE_DEADLINE_MS, HUGE_SIZE, LARGE, LARGE_DEADLINE_MS, LIMIT_CONCURRENCY, log, PEER_CONCURRENCY, QUICK, REPS, SKIP_LARGE, SMALL, SMALL_DEADLINE_MS, STEADY_DEADLINE_MS, STEADY_TICKS, TWO_WORKERS, VARIANTS } from './config';
import { openContext, type BenchDb, type Ctx } from './context';
import { sweep } from './loads';
import { sendonceGroup, type TickSize } from './ticks';
import { commitState, machine, versions } from './machine';
import { bigTableSection } from './big-table';
import { hugeTick, twoWorkerTick } from './scale';

/**
 * limit and peer, and the main sendonce configuration they decide: as many SMTP connections as the fastest naive
 * pipeline used. BENCH_BASELINES=0 (development) skips both and gives sendonce BENCH_SMTP_CONNECTIONS (default 50).
 */
async function baselines(ctx: Ctx, db: (name: string, users: number) => Promise<BenchDb>): Promise<{ groups: Group[]; sweeps: Group[]; mainEnv: Record<string, string> }> {
  if (!BASELINES) return { groups: [], sweeps: [], mainEnv: { SMTP_MAX_CONNECTIONS: process.env.BENCH_SMTP_CONNECTIONS ?? '50' } };
  const naiveDb = await db('bench_naive', SMALL);
  const peerDb = await db('bench_peer', SMALL);
  log('--- limit: naive pipeline');
  const limit = await sweep(ctx, 'limit', naiveDb, LIMIT_CONCURRENCY);
  log('--- peer: BullMQ');
  const peer = await sweep(ctx, 'peer', peerDb, PEER_CONCURRENCY);
  const bestC = (runs: RunRecord[]) => runs[0]!.variant.replace('c=', '');
  return {
    groups: [
      { title: `limit (naive, ${bestC(limit.best)} lanes)`, scenario: 'limit', runs: limit.best },
      { title: `peer (BullMQ, concurrency ${bestC(peer.best)})`, scenario: 'peer', runs: peer.best },
    ],
    sweeps: [
      ...limit.sweep.map((r) => ({ title: `limit ${r.variant}`, scenario: 'limit' as const, runs: [r] })),
      ...peer.sweep.map((r) => ({ title: `peer ${r.variant}`, scenario: 'peer' as const, runs: [r] })),
    ],
    // The job's own options are sendonce's defaults (src/activities/run-settings.ts).
    mainEnv: { SMTP_MAX_CONNECTIONS: bestC(limit.best) },
  };
}

/**
 * After the main ticks: the large tick on two workers, the big-table section, and (BENCH_HUGE=1) the million. Each
 * section's result is saved as soon as it is measured (`save`), and a section that fails is reported as not
 * measured (with its error) instead of losing the sections before it.
 */
async function scaleSections(
  ctx: Ctx,
  driver: TickDriver,
  db: (name: string, users: number) => Promise<BenchDb>,
  sendonceDb: BenchDb,
  mainEnv: Record<string, string>,
  report: Report,
  save: () => void,
): Promise<void> {
  const section = async (name: string, measure: () => Promise<void>) => {
    try {
      await measure();
    } catch (err) {
      log(`${name} FAILED: ${(err as Error).stack ?? String(err)}`);
      (report.notMeasured ??= []).push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
    save();
  };
  if (TWO_WORKERS && !SKIP_LARGE) {
    log(`--- sendonce ${LARGE} on two workers`);
    await section('two workers', async () => {
      report.twoWorkers = await twoWorkerTick(ctx, driver, sendonceDb, mainEnv, LARGE, LARGE_DEADLINE_MS);
    });
  }
  if (BIG_ROWS > 0) {
    log(`--- big table: ${BIG_ROWS.toLocaleString('en-US')} rows`);
    await section('big table', async () => {
      report.bigTable = await bigTableSection(ctx.stack, BIG_ROWS);
    });
  }
  if (HUGE) {
    log(`--- sendonce ${HUGE_SIZE.toLocaleString('en-US')} (BENCH_HUGE)`);
    await section(`sendonce ${HUGE_SIZE.toLocaleString('en-US')}`, async () => {
      const huge = await hugeTick(ctx, driver, await db('bench_huge', HUGE_SIZE), mainEnv, HUGE_SIZE, HUGE_DEADLINE_MS);
      report.huge = { title: `sendonce ${HUGE_SIZE.toLocaleString('en-US')}`, scenario: 'sendonce', runs: huge.runs };
    });
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadAverage();
  log(`BENCH ${QUICK ? 'QUICK ' : ''}sizes ${SMALL}/${LARGE}, ${REPS} repetition(s); load average ${loadBefore}`);
  const ctx: Ctx = await openContext(log);
  const { stack } = ctx;
  const db = async (name: string, users: number): Promise<BenchDb> => {
    const url = await stack.createDatabase(name);
    await seedUsers(url, users);
    return { name, url };
  };
  const sendonceDb = await db('bench_sendonce', Math.max(SMALL, LARGE));
  const driver = await TickDriver.connect(stack.temporal.address);
  stops.push('tick driver', () => driver.close());

  const { groups: baselineGroups, sweeps, mainEnv } = await baselines(ctx, db);
  log('--- sendonce');
  const steady = { steady: STEADY_TICKS, steadyDeadlineMs: STEADY_DEADLINE_MS };
  const sizes: TickSize[] = [{ recipients: SMALL, reps: REPS, deadlineMs: SMALL_DEADLINE_MS, ...steady }];
  if (!SKIP_LARGE) sizes.push({ recipients: LARGE, reps: 1, deadlineMs: LARGE_DEADLINE_MS, ...steady });
  const def = await sendonceGroup(ctx, driver, sendonceDb, 'main', mainEnv, sizes);
  const variantGroups: Group[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    log(`--- sendonce, variant ${v.name}: ${JSON.stringify(v.env)}`);
    const runs = await sendonceGroup(ctx, driver, sendonceDb, `v${i + 1}`, { ...mainEnv, ...v.env }, [{ recipients: SMALL, reps: REPS, deadlineMs: SMALL_DEADLINE_MS }]);
    variantGroups.push({ title: `sendonce ${SMALL.toLocaleString('en-US')}, ${v.name}`, scenario: 'sendonce', runs: runs[0]!.runs });
  }

  const groups: Group[] = [
    ...baselineGroups,
    ...def.map((d) => ({ title: `sendonce ${d.recipients.toLocaleString('en-US')}`, scenario: 'sendonce' as const, runs: d.runs })),
  ];
  const report: Report = {
    groups,
    sizes: { small: SMALL, large: LARGE, largeDeadlineMs: LARGE_DEADLINE_MS },
    quick: QUICK,
    sweeps,
    variantGroups,
    steady: def.map((d) => ({ recipients: d.recipients, runs: d.steadyRuns })),
    mainEnv,
    machine: machine(),
    versions: versions(),
    loadBefore,
    loadAfter: loadAverage(),
    startedAt: startedAt.toISOString(),
    durationS: elapsedS(),
    ...commitState(),
  };
  // Raw results so far, kept after every section: a late failure (or Ctrl-C) still leaves the earlier figures.
  const raw = path.join(os.tmpdir(), `sendonce-bench-${startedAt.getTime()}.json`);
  const save = () => {
    report.loadAfter = loadAverage();
    report.durationS = elapsedS();
    fs.writeFileSync(raw, JSON.stringify(report, null, 2));
  };
  save();
  log(`raw results: ${raw} (kept after every section; re-render with BENCH_REPORT_FROM=${raw})`);
  await scaleSections(ctx, driver, db, sendonceDb, mainEnv, report, save);
  write(report);
  if (report.notMeasured?.length) throw new Error(`report written, but not measured: ${report.notMeasured.join('; ')}`);
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
const run = from ? async () => write(readReport(from)) : main;
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
