/**
 * What a chaos scenario is, and what every scenario does after its fault: wait for its runs, then "settle" —
 * a window none of whose runs completed (the fault stopped it: lock lost, Redis gone) gets a follow-up tick,
 * exactly what the next schedule tick would do in production. The report says how many follow-ups were used.
 * A window whose run said `completed` gets no follow-up: a completed run must already account for everyone.
 */
import type { JobDefinition } from '../../src/jobs/types';
import type { RunSummary } from '../../src/contract';
import type { ServiceFaults } from './stack';
import { sleep } from './stack';
import { CHAOS_SCHEDULED_AT, CHAOS_WINDOW, type World } from './world';

// Where the suite's seeded faults come from (replayable with CHAOS_SEED); the soak uses it too.
export { seededRandom } from '../../devkit/seeded-random';

export interface ScenarioOutcome {
  /** The windows whose keys must all be accounted for. */
  windows: string[];
  /** Summaries of the runs the scenario started (follow-ups included). */
  runs: RunSummary[];
  followUps: number;
  /** Scenario-specific failures (on top of the shared invariants). */
  violations: string[];
}

export interface Scenario {
  id: number;
  name: string;
  /** One line for the report: the fault. */
  title: string;
  job: JobDefinition;
  recipients: number;
  /** Service faults it needs (the npm test smoke run has none). */
  needs?: Array<keyof ServiceFaults>;
  run(world: World, rng: () => number): Promise<ScenarioOutcome>;
}

/** A whole number in [from·n, to·n): "a random point mid-batch". */
export function pointIn(rng: () => number, n: number, from = 0.15, to = 0.75): number {
  return Math.max(1, Math.floor(n * (from + (to - from) * rng())));
}

/** Poll `check` every 50 ms until it is truthy; throws naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // a service may be down right now: that is the point; keep polling
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const scheduledAtOf = (window: string) => (window === CHAOS_WINDOW ? CHAOS_SCHEDULED_AT : `${window}T12:00:00Z`);

/**
 * Follow-up ticks for each window without a completed run (at most 3 per window: a follow-up can itself be
 * skipped while a dead holder's lock runs out its TTL). Starts a worker if none is alive.
 */
export async function settle(world: World, runs: RunSummary[], windows: readonly string[]): Promise<ScenarioOutcome> {
  let followUps = 0;
  const all = [...runs];
  for (const window of windows) {
    for (let i = 0; i < 3 && !all.some((r) => r.window === window && r.outcome === 'completed'); i++) {
      if (!world.workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await world.startWorker();
      if (i > 0) await sleep(3_000);
      const summary = await world.result(await world.startRun({ scheduledAt: scheduledAtOf(window) }));
      followUps++;
      world.notes.push(`follow-up tick for ${window}: ${summary.outcome}${summary.reason ? ` (${summary.reason})` : ''}`);
      all.push(summary);
    }
  }
  return { windows: [...windows], runs: all, followUps, violations: [] };
}
