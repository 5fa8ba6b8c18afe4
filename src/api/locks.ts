/**
 * A job's lock for people: who holds it (the run, from the token it recorded), its fence and time left — and, when
 * it is stuck, breaking it. Breaking takes the job's next fence first, so the old holder (if it still runs) has
 * every further claim refused, then deletes the lock only if it still holds the token that was looked at.
 */
import type { Pool } from 'pg';
import type { JobLock } from '../lock';
import { currentFence, takeFence } from '../lock/fence';
import { runHoldingToken, skipReasonFor, type HolderRun, type LockSkipReason } from '../runs/lock-holder';

export interface LockStatus {
  jobName: string;
  /** Where the lock lives (Redis key, or the job_leases row). */
  where: string;
  held: boolean;
  token?: string;
  /** Time left in ms; null = no expiry (it never frees itself). */
  ttlMs?: number | null;
  /** The run that recorded this token; absent when none did. */
  holder?: HolderRun;
  /** The newest fence handed out for the job (claims with an older one are refused). */
  fence: number;
  /** `locked` when a run holds it normally; locked_no_expiry / locked_unknown_holder need a person. */
  problem?: Exclude<LockSkipReason, 'locked'>;
  /** One sentence: what this means and what to do. */
  advice: string;
}

export interface LockDeps {
  pool: Pool;
  lock: JobLock;
}

export async function lockStatus(deps: LockDeps, jobName: string): Promise<LockStatus> {
  const [holder, fence] = await Promise.all([deps.lock.peek(jobName), currentFence(deps.pool, jobName)]);
  const where = deps.lock.describe(jobName);
  if (!holder) return { jobName, where, held: false, fence, advice: 'not held: the next run takes it' };
  const run = await runHoldingToken(deps.pool, jobName, holder.token);
  const reason = skipReasonFor(holder, run);
  const status: LockStatus = { jobName, where, held: true, token: holder.token, ttlMs: holder.ttlMs, fence, advice: '' };
  if (run) status.holder = run;
  if (reason !== 'locked') status.problem = reason;
  status.advice = adviceFor(status);
  return status;
}

function adviceFor(s: LockStatus): string {
  const breakIt = `\`sendonce lock break --job ${s.jobName}\``;
  if (s.problem === 'locked_no_expiry') {
    return `held without expiry${s.holder ? '' : ' by a token no run recorded'}: it never frees itself and every tick is skipped; break it with ${breakIt}`;
  }
  if (s.problem === 'locked_unknown_holder') return `held by a token no run recorded (set by hand?): it frees itself when its TTL ends, or break it with ${breakIt}`;
  if (s.holder?.outcome === 'running') return `held by run ${s.holder.runId}, still running: leave it (the run renews it while it works)`;
  return `held by run ${s.holder?.runId}, which ended ${s.holder?.outcome}: it frees itself when its TTL ends (the reaper releases it sooner), or break it with ${breakIt}`;
}

export interface BreakLockResult {
  broken: boolean;
  /** What was looked at before breaking. */
  before: LockStatus;
  /** The job's fence after breaking (taken so the old holder's claims are refused). */
  fence: number;
  message: string;
}

/**
 * Break the lock `before` describes (from lockStatus, shown to the person who confirmed). Nothing happens when
 * it is not held, or when it changed hands since it was looked at.
 */
export async function breakLock(deps: LockDeps, before: LockStatus): Promise<BreakLockResult> {
  const { jobName } = before;
  if (!before.held || !before.token) return { broken: false, before, fence: before.fence, message: `the lock of ${jobName} is not held: nothing to break` };
  const now = await deps.lock.peek(jobName);
  if (now?.token !== before.token) {
    return { broken: false, before, fence: before.fence, message: `the lock of ${jobName} changed hands since it was looked at: nothing broken; look again with \`sendonce lock status --job ${jobName}\`` };
  }
  const fence = await takeFence(deps.pool, jobName);
  const released = await deps.lock.release(jobName, before.token);
  const message = released
    ? `broke the lock of ${jobName} (${before.holder ? `run ${before.holder.runId}` : 'a token no run recorded'}); fence is now ${fence}: its old holder's claims are refused`
    : `the lock of ${jobName} went away by itself meanwhile; fence is now ${fence}`;
  return { broken: released, before, fence, message };
}
