/** The twelve scenarios of issue 6, in its order, then issue 14's deploys, then issue 29's one-tick windows. */
import type { Scenario } from '../scenario';
import { clockSkew } from './clock';
import { deployMidRun, deployMidRunUnversioned } from './deploy';
import { oneTickPostgresOutage, oneTickRedisRestarted, oneTickWorkerKilled } from './one-tick-windows';
import { oneOfTwoKilled, pausedHolder, workerKilled } from './processes';
import { duplicateTriggers } from './schedules';
import { postgresRestarted, redisRestarted, temporalRestarted } from './services';
import { smtp421Storm, smtp550, smtpDownThenBack, smtpDropAfterData } from './smtp';

export const scenarios: readonly Scenario[] = [
  workerKilled,
  oneOfTwoKilled,
  postgresRestarted,
  redisRestarted,
  pausedHolder,
  smtp421Storm,
  smtp550,
  smtpDropAfterData,
  smtpDownThenBack,
  duplicateTriggers,
  clockSkew,
  temporalRestarted,
  deployMidRun,
  deployMidRunUnversioned,
  oneTickWorkerKilled,
  oneTickRedisRestarted,
  oneTickPostgresOutage,
];

/** CHAOS_ONLY="worker-sigkill,7": names or ids; empty = all. */
export function selectScenarios(only: string | undefined): Scenario[] {
  const wanted = (only ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return [...scenarios];
  const picked = scenarios.filter((s) => wanted.includes(s.name) || wanted.includes(String(s.id)));
  const unknown = wanted.filter((w) => !scenarios.some((s) => s.name === w || String(s.id) === w));
  if (unknown.length > 0) throw new Error(`CHAOS_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  return picked;
}
