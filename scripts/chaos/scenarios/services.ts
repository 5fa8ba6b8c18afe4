/**
 * Scenarios 3, 4 and 12: the services under the worker crash and come back — Postgres (immediate mode),
 * Redis (killed, no persistence: the lock is gone), the Temporal dev server (killed, restarted on its SQLite file).
 */
import { chaosDigest } from '../jobs';
import { pointIn, settle, type Scenario } from '../scenario';
import { sleep, type ServiceFaults } from '../stack';
import { CHAOS_WINDOW, type World } from '../world';
import { faultAtMessage } from './fault-point';

/** The chaos stack's service faults (crash and restart Postgres, Redis, Temporal); shared services have none. */
export function faults(world: World): ServiceFaults {
  const f = world.services.faults;
  if (!f) throw new Error('this scenario needs the chaos stack (npm run chaos), not shared services');
  return f;
}

const POSTGRES_DOWN_MS = 1_500;

export const postgresRestarted: Scenario = {
  id: 3,
  name: 'postgres-restart',
  title: `Postgres stopped in immediate mode (pg_ctl -m immediate) at a random message, started again ${POSTGRES_DOWN_MS / 1000} s later`,
  job: chaosDigest,
  recipients: 150,
  needs: ['restartPostgres'],
  async run(world, rng) {
    await world.startWorker();
    const k = pointIn(rng, world.users.length);
    const fault = faultAtMessage(world, k, () => faults(world).restartPostgres(POSTGRES_DOWN_MS));
    const handle = await world.startRun();
    await fault.done;
    world.notes.push(`Postgres crashed while the sink held message ${k}`);
    return settle(world, [await world.result(handle)], [CHAOS_WINDOW]);
  },
};

const REDIS_DOWN_MS = 1_000;

export const redisRestarted: Scenario = {
  id: 4,
  name: 'redis-restart',
  title: `redis-server SIGKILLed at a random message (no persistence: the lock is gone), restarted ${REDIS_DOWN_MS / 1000} s later`,
  job: chaosDigest,
  recipients: 150,
  needs: ['killRedis', 'startRedis'],
  async run(world, rng) {
    // Renewed every 2 s, so the run notices within seconds that its lock died with Redis. Until it has, the
    // sink answers slowly (300 ms a message), so the run is still sending when that renewal comes.
    const worker = await world.startWorker({ LOCK_TTL_MS: '6000' });
    const noticed = () => worker.lines.some((l) => l.msg === 'job_lock_lost');
    const k = pointIn(rng, world.users.length, 0.15, 0.5);
    const fault = faultAtMessage(world, k, async () => {
      await faults(world).killRedis();
      await sleep(REDIS_DOWN_MS);
      await faults(world).startRedis();
    }, () => (noticed() ? 20 : 300));
    const handle = await world.startRun();
    await fault.done;
    const summary = await world.result(handle);
    world.notes.push(`Redis killed while the sink held message ${k}; the run ended ${summary.outcome}`);
    return settle(world, [summary], [CHAOS_WINDOW]);
  },
};

const TEMPORAL_DOWN_MS = 1_000;

export const temporalRestarted: Scenario = {
  id: 12,
  name: 'temporal-restart',
  title: 'Temporal dev server SIGKILLed at a random message, restarted on the same SQLite file',
  job: chaosDigest,
  recipients: 150,
  needs: ['restartTemporal'],
  async run(world, rng) {
    await world.startWorker();
    const k = pointIn(rng, world.users.length);
    const fault = faultAtMessage(world, k, () => faults(world).restartTemporal(TEMPORAL_DOWN_MS));
    const handle = await world.startRun();
    await fault.done;
    world.notes.push(`Temporal killed while the sink held message ${k}`);
    return settle(world, [await world.result(handle)], [CHAOS_WINDOW]);
  },
};
