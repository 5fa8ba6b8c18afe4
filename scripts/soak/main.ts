/**
 * `npm run soak`: the whole product for a while under a seeded random nemesis — private Postgres, Redis and
 * Temporal (the chaos stack, whose services can be crashed), supervised real worker processes, four jobs ticking
 * back to back, every fault kind of the chaos suite, alone and together (nemesis.ts). The four invariants are
 * checked after every tick and at the end; the figures go into RELIABILITY.md's soak section.
 *
 *   SOAK_MINUTES=30        how long faults are injected (default 30); settling and the final check follow
 *   SOAK_SEED=12345        replays the fault schedule (default: random, printed)
 *   SOAK_WORKERS=2         worker processes of the current version (default 2)
 *   SOAK_USERS=40          recipients of each recurring job per window (default 40; 4 of them bounce)
 *   SOAK_REPORT=path       where the soak section goes (default RELIABILITY.md); SOAK_REPORT=- : nowhere
 *   SOAK_KEEP_GOING=1      go on after a violation (default: stop at the first tick whose check finds one)
 *   SOAK_KEEP_DB=1         keep the soak's database until the stack stops
 *   SOAK_EVIDENCE_DIR=path where a failed soak keeps its evidence (default: a new folder under the temp dir)
 *
 * Exit code 0 only when every check held. A failed soak keeps what its diagnosis needs (evidence.ts): the
 * database, every worker's log, the sink's record, the faults, the runs and each violating key's story.
 */
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../chaos/scenario';
import { sleep, startChaosStack } from '../chaos/stack';
import { checkAll, type CheckResult } from './checks';
import { evidenceDir, writeEvidence, type CheckRecord } from './evidence';
import { Nemesis } from './nemesis';
import { checkedOutCommit, renderSoakSection, seriesRow, soakPassed, writeSoakSection, type SoakReport } from './report';
import { retrying, Ticker } from './ticker';
import { createSoakWorld, type SoakWorld } from './world';

const log = (line: string) => process.stdout.write(`[soak] ${line}\n`);

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

async function main(): Promise<number> {
  const minutes = positive('SOAK_MINUTES', 30);
  const seed = Math.floor(positive('SOAK_SEED', Math.floor(Math.random() * 1_000_000) + 1));
  const workers = Math.floor(positive('SOAK_WORKERS', 2));
  const users = Math.floor(positive('SOAK_USERS', 40));
  const keepGoing = process.env.SOAK_KEEP_GOING === '1';
  const reportPath = process.env.SOAK_REPORT === '-' ? undefined : path.resolve(process.env.SOAK_REPORT ?? 'RELIABILITY.md');
  const command = `SOAK_MINUTES=${minutes} SOAK_SEED=${seed} npm run soak`;
  const commit = checkedOutCommit();
  log(`${command}; starting private Postgres, Redis and Temporal (load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);

  const stack = await startChaosStack(log);
  let world: SoakWorld | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= (async () => {
    await world?.close();
    await stack.stop();
  })());
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    world = await createSoakWorld(stack, { users, bouncyUsers: Math.max(1, Math.round(users / 10)), workers, log });
    const rng = seededRandom(seed);
    const violationsOutsideChecks: string[] = [];
    const ticker = new Ticker(world.client, world.pool, world.taskQueue, seededRandom(seed + 1), (v) => violationsOutsideChecks.push(v));
    const nemesis = new Nemesis(world, ticker, rng, seededRandom(seed + 2));
    const startedAt = new Date();
    const endAt = startedAt.getTime() + minutes * 60_000;
    let ticksChecked = 0;
    let firstViolation: SoakReport['firstViolation'];
    const checks: CheckRecord[] = [];
    // Every distinct violation found by any check (the checks are cumulative: one that persists is found again).
    const violations = new Set<string>();
    const crossings: SoakReport['crossings'] = [];
    nemesis.start();
    log(`faults for ${minutes} min; ${workers} workers, ${users} users`);
    while (Date.now() < endAt) {
      await ticker.tick();
      const check = await retrying(() => checkAll(world!, ticker, false), 120_000);
      ticksChecked++;
      const found = [...violationsOutsideChecks, ...check.violations];
      checks.push({ tick: ticker.ticks, final: false, reads: check.reads, violations: found });
      for (const c of check.crossings) crossings.push({ tick: ticker.ticks, ...c, reads: check.reads });
      for (const v of found) violations.add(v);
      if (ticker.ticks % 10 === 0 || found.length > 0) progress(ticker, nemesis, world, startedAt, found.length);
      if (found.length > 0 && !firstViolation) {
        firstViolation = {
          afterMinutes: (Date.now() - startedAt.getTime()) / 60_000,
          afterFaults: nemesis.injections.length,
          afterTicks: ticker.ticks,
          text: found[0]!,
        };
        for (const v of found.slice(0, 10)) log(`VIOLATION: ${v}`);
        if (!keepGoing) break;
      }
    }
    log('stopping the nemesis (faults in progress recover first)');
    await nemesis.stop();
    const faultsStoppedAt = new Date();
    await world.workers.fill();
    log('settling: ticking every unfinished window until a run completes it');
    await ticker.settle();
    await waitForEndingsRecorded(world);
    await world.workers.stopAll();
    world.notes.push(await followUpFigures(world));
    const final: CheckResult = await checkAll(world, ticker, true);
    final.violations.unshift(...violationsOutsideChecks);
    checks.push({ tick: ticker.ticks, final: true, reads: final.reads, violations: final.violations });
    for (const v of final.violations) violations.add(v);
    const report: SoakReport = {
      command,
      commit,
      seed,
      startedAt,
      finishedAt: new Date(),
      faultsStoppedAt,
      ticks: ticker.ticks,
      ticksChecked,
      workers,
      users,
      runs: ticker.runs,
      injections: nemesis.injections,
      workerRestarts: world.workers.restarts,
      orphanedVersions: world.workers.orphanedVersions,
      final,
      violations: [...violations],
      crossings,
      emailsAtSink: world.sink.count,
      firstViolation,
      notes: world.notes,
    };
    const section = renderSoakSection(report);
    if (reportPath) writeSoakSection(reportPath, section, seriesRow(report));
    process.stdout.write(`${section}\n`);
    const failed = !soakPassed(report);
    if (failed) {
      const dir = evidenceDir(seed, startedAt);
      await writeEvidence(dir, { seed, world, runs: ticker.runs, injections: nemesis.injections, checks, violations: [...violations] });
      world.keepDatabase();
      stack.keepDatabaseIn(path.join(dir, 'database'));
      log(`evidence kept in ${dir} (README.md first; the database goes into database/ once Postgres has stopped)`);
    }
    log(`${failed ? 'FAILED' : 'passed'}: ${nemesis.injections.length} faults, ${ticker.ticks} ticks${reportPath ? `; report in ${reportPath}` : ''}`);
    return failed ? 1 : 0;
  } finally {
    await stopAll();
  }
}

function progress(ticker: Ticker, nemesis: Nemesis, world: SoakWorld, startedAt: Date, violations: number): void {
  const min = ((Date.now() - startedAt.getTime()) / 60_000).toFixed(1);
  const outcomes = new Map<string, number>();
  for (const r of ticker.runs) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
  log(`${min} min: tick ${ticker.ticks}, ${nemesis.injections.length} faults, ${world.sink.count} emails, runs ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}${violations ? `, ${violations} VIOLATION(S)` : ''}`);
}

/** The workers' reapers close the job_runs rows of runs that ended without saying so (terminated): give them time. */
async function waitForEndingsRecorded(world: SoakWorld): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await world.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sendonce.job_runs WHERE outcome = 'running'`);
    if (rows[0]!.n === 0) return;
    await sleep(1_000);
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[soak] ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);

/** What the workers' window keeper did (issue 29): follow-up runs by job and outcome, and the windows' final states. */
async function followUpFigures(world: SoakWorld): Promise<string> {
  const runs = await world.pool.query<{ job_name: string; outcome: string; n: number }>(
    `SELECT job_name, outcome, count(*)::int AS n FROM sendonce.job_runs WHERE workflow_id LIKE '%-follow-up-%' GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const windows = await world.pool.query<{ job_name: string; state: string; n: number }>(
    `SELECT job_name, state, count(*)::int AS n FROM sendonce.job_windows GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const list = (rows: Array<{ job_name: string; n: number } & Record<string, unknown>>, key: string) =>
    rows.map((r) => `${r.job_name} ${String(r[key])}: ${r.n}`).join(', ') || 'none';
  return `window keeper: follow-up runs ${list(runs.rows, 'outcome')}; windows at the end ${list(windows.rows, 'state')}`;
}
