/**
 * `npm run chaos`: inject real faults into the real stack (private Postgres, Redis and Temporal on 127.0.0.1,
 * real worker processes, a misbehaving SMTP sink), check the invariants after every repetition, and write
 * RELIABILITY.md with the figures.
 *
 *   CHAOS_REPS=3            repetitions per scenario (default 3)
 *   CHAOS_ONLY=1,smtp-550-some   scenario ids or names (default: all twelve)
 *   CHAOS_SEED=12345        base seed of the random fault points (default: random, printed)
 *   CHAOS_REPORT=path       where to write the report (default RELIABILITY.md)
 *   CHAOS_KEEP_DB=1         keep each repetition's database (to inspect a failure) until the stack stops
 *
 * Exit code 0 only when every repetition held every invariant.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keepSoakSection } from '../soak/report';
import { renderReport } from './report';
import { closeActiveRepetition, runRepetition, type RepetitionResult } from './run';
import { selectScenarios } from './scenarios';
import { startChaosStack, type ChaosStack } from './stack';

const log = (line: string) => process.stdout.write(`[chaos] ${line}\n`);

function commandLine(reps: number, only: string | undefined): string {
  return `${only ? `CHAOS_ONLY=${only} ` : ''}CHAOS_REPS=${reps} npm run chaos`;
}

async function runAll(stack: ChaosStack, reps: number, baseSeed: number, only: string | undefined): Promise<RepetitionResult[]> {
  const results: RepetitionResult[] = [];
  for (const scenario of selectScenarios(only)) {
    for (let rep = 1; rep <= reps; rep++) {
      const seed = baseSeed + scenario.id * 1000 + rep;
      log(`${scenario.id}. ${scenario.name} — repetition ${rep}/${reps} (seed ${seed})`);
      const r = await runRepetition(stack, scenario, rep, seed);
      results.push(r);
      const f = r.figures;
      log(`   ${r.passed ? 'pass' : 'FAIL'} in ${(r.durationMs / 1000).toFixed(1)} s: ${f ? `expected ${f.expected}, delivered ${f.delivered}, duplicates ${f.duplicates}, resent ${f.resent}, unknown ${f.unknown}, dead ${f.dead}, stuck ${f.stuck}, max attempts ${f.maxAttempts}` : 'no figures'}, follow-ups ${r.followUps}`);
      for (const note of r.notes) log(`   note: ${note}`);
      for (const v of r.violations.slice(0, 10)) log(`   VIOLATION: ${v}`);
    }
  }
  return results;
}

async function main(): Promise<number> {
  const reps = Number(process.env.CHAOS_REPS ?? 3);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`CHAOS_REPS must be a whole number ≥ 1, got ${process.env.CHAOS_REPS}`);
  const only = process.env.CHAOS_ONLY || undefined;
  selectScenarios(only); // fail on a typo before starting anything
  const baseSeed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
  const reportPath = path.resolve(process.env.CHAOS_REPORT ?? 'RELIABILITY.md');
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(`base seed ${baseSeed}; starting private Postgres, Redis and Temporal`);
  const stack = await startChaosStack(log);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= closeActiveRepetition().then(() => stack.stop()));
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const results = await runAll(stack, reps, baseSeed, only);
    const report = renderReport(results, {
      command: commandLine(reps, only),
      repetitions: reps,
      startedAt,
      finishedAt: new Date(),
      loadBefore,
      loadAfter: os.loadavg(),
      baseSeed,
    });
    // The soak's section (npm run soak) stays: this run rewrites only the scenarios' part.
    fs.writeFileSync(reportPath, keepSoakSection(report, fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : undefined));
    const failed = results.filter((r) => !r.passed);
    log(`${results.length - failed.length}/${results.length} repetitions passed; report in ${reportPath}`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[chaos] ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
