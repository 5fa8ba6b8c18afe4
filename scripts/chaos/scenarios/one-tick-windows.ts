/**
 * Scenarios 15–17: one tick per window (issue 29). A daily job's only tick of today is hit by a fault; no tick and
 * no person follows — the workers' window keeper must finish the window with follow-up runs. The scenario only
 * waits for the window's ledger row to say `complete`, then the shared invariants check every key at the sink and
 * in Postgres: 0 duplicates, 0 recipients silently unsent.
 */
import type { RunSummary } from '../../../src/contract';
import { windowFor } from '../../../src/window';
import { chaosDaily } from '../jobs';
import { pointIn, until, type Scenario, type ScenarioOutcome } from '../scenario';
import { sleep } from '../stack';
import type { World } from '../world';
import { faultAtMessage } from './fault-point';
import { faults } from './services';

/** The keeper on, quick: a round a second, the first follow-up 2 s after a run stops early. */
const KEEPER = { WINDOW_KEEPER_INTERVAL_MS: '1000', WINDOW_FOLLOW_UP_DELAY_MS: '2000', WINDOW_FOLLOW_UP_MAX_DELAY_MS: '8000', REAPER_INTERVAL_MS: '1000' };

/** Today's tick at the current time: today's window, its deadline at midnight UTC ahead. */
function todaysTick(): { scheduledAt: string; window: string } {
  const now = new Date();
  return { scheduledAt: now.toISOString(), window: windowFor(now, chaosDaily.window) };
}

/**
 * No follow-up tick from the scenario: wait for the keeper to complete the window, then list the runs it took. The
 * first run may itself fail (an activity out of retries while Postgres is down): that is one more early ending.
 */
async function windowFinishedByItself(world: World, result: Promise<RunSummary>, window: string): Promise<ScenarioOutcome> {
  const first = await result.catch((err: Error) => {
    world.notes.push(`first run failed: ${err.message}`);
    return undefined;
  });
  await until(async () => {
    const { rows } = await world.pool.query<{ state: string }>('SELECT state FROM sendonce.job_windows WHERE job_name = $1 AND window_key = $2', [chaosDaily.name, window]);
    return rows[0]?.state === 'complete';
  }, `window ${window} to be completed by follow-up runs`, 180_000);
  const { rows } = await world.pool.query<{ workflow_id: string; outcome: string; reason: string | null }>(
    'SELECT workflow_id, outcome, reason FROM sendonce.job_runs WHERE job_name = $1 AND window_key = $2 ORDER BY started_at',
    [chaosDaily.name, window],
  );
  const followUps = rows.filter((r) => r.workflow_id.includes('-follow-up-'));
  const firstEnding = first ? `${first.outcome}${first.reason ? ` (${first.reason})` : ''}` : `${rows[0]?.outcome} (${rows[0]?.reason ?? 'no reason'})`;
  world.notes.push(`first run ${firstEnding}; keeper follow-ups: ${followUps.map((r) => r.outcome + (r.reason ? ` (${r.reason})` : '')).join(', ') || 'none'}`);
  return { windows: [window], runs: first ? [first] : [], followUps: followUps.length, violations: [] };
}

export const oneTickWorkerKilled: Scenario = {
  id: 15,
  name: 'one-tick-worker-sigkill',
  title: 'one tick per window: the only worker SIGKILLed at a random message, a new worker started; no further tick',
  job: chaosDaily,
  recipients: 150,
  async run(world, rng) {
    const first = await world.startWorker(KEEPER);
    const tick = todaysTick();
    const k = pointIn(rng, world.users.length);
    const fault = faultAtMessage(world, k, () => void first.child.kill('SIGKILL'));
    const handle = await world.startRun({ scheduledAt: tick.scheduledAt });
    await fault.done;
    await first.exited;
    world.notes.push(`killed while the sink held message ${k}`);
    await world.startWorker(KEEPER);
    return windowFinishedByItself(world, world.result(handle), tick.window);
  },
};

export const oneTickRedisRestarted: Scenario = {
  id: 16,
  name: 'one-tick-redis-restart',
  title: 'one tick per window: redis-server SIGKILLed at a random message (the lock is gone), back 3 s later; no further tick',
  job: chaosDaily,
  recipients: 150,
  needs: ['killRedis', 'startRedis'],
  async run(world, rng) {
    const worker = await world.startWorker({ ...KEEPER, LOCK_TTL_MS: '6000' });
    const noticed = () => worker.lines.some((l) => l.msg === 'job_lock_lost');
    const tick = todaysTick();
    const k = pointIn(rng, world.users.length, 0.15, 0.5);
    const fault = faultAtMessage(world, k, async () => {
      await faults(world).killRedis();
      await sleep(3_000);
      await faults(world).startRedis();
    }, () => (noticed() ? 20 : 300));
    const handle = await world.startRun({ scheduledAt: tick.scheduledAt });
    await fault.done;
    world.notes.push(`Redis killed while the sink held message ${k}`);
    return windowFinishedByItself(world, world.result(handle), tick.window);
  },
};

const POSTGRES_DOWN_MS = 20_000;

export const oneTickPostgresOutage: Scenario = {
  id: 17,
  name: 'one-tick-postgres-outage',
  title: `one tick per window: Postgres down ${POSTGRES_DOWN_MS / 1000} s from a random message (immediate stop); no further tick`,
  job: chaosDaily,
  recipients: 150,
  needs: ['restartPostgres'],
  async run(world, rng) {
    await world.startWorker(KEEPER);
    const tick = todaysTick();
    const k = pointIn(rng, world.users.length);
    const fault = faultAtMessage(world, k, () => faults(world).restartPostgres(POSTGRES_DOWN_MS));
    const handle = await world.startRun({ scheduledAt: tick.scheduledAt });
    await fault.done;
    world.notes.push(`Postgres down ${POSTGRES_DOWN_MS / 1000} s from message ${k}`);
    return windowFinishedByItself(world, world.result(handle), tick.window);
  },
};
