/**
 * The window ledger for operators (`sendonce windows`): list windows with their state and counts, who a window
 * did not reach before its deadline, and finish or expire a window by hand. Finishing and expiring are done by
 * the workers' window keeper (src/windows/keeper.ts) at its next round: these calls only say what is due.
 */
import type { Pool } from 'pg';
import { withTransaction } from '../db/transaction';
import { WindowCommandError } from '../errors';
import { getWindow, type WindowRow, type WindowState } from '../windows/ledger';

export { listWindows, WINDOW_STATES, type WindowRow, type WindowState } from '../windows/ledger';

async function windowOrThrow(pool: Pool, jobName: string, window: string): Promise<WindowRow> {
  const row = await getWindow(pool, jobName, window);
  if (!row) throw new WindowCommandError(`job '${jobName}' has no window '${window}' in the ledger: see \`sendonce windows --job ${jobName}\``);
  return row;
}

/** Recipient ids a window recorded expired (ids only: look them up in your own tables). */
export async function expiredRecipients(pool: Pool, jobName: string, window: string): Promise<string[]> {
  await windowOrThrow(pool, jobName, window);
  const { rows } = await pool.query<{ recipient_id: string }>(
    'SELECT recipient_id FROM sendonce.window_expired_recipients WHERE job_name = $1 AND window_key = $2 ORDER BY recipient_id',
    [jobName, window],
  );
  return rows.map((r) => r.recipient_id);
}

export interface FinishRequest {
  jobName: string;
  window: string;
  /** A new deadline (in the future). Needed when the old one has passed, and to reopen an expired window. */
  deadline?: Date;
  now?: Date;
}

/**
 * Make a follow-up run due now, with the follow-up count started afresh: the keeper starts it at its next round.
 * An expired window is reopened only with a new deadline: its expired recipients become unsent again.
 */
export async function finishWindow(pool: Pool, req: FinishRequest): Promise<WindowRow> {
  const row = await windowOrThrow(pool, req.jobName, req.window);
  const now = req.now ?? new Date();
  if (req.deadline && req.deadline <= now) throw new WindowCommandError(`--deadline ${req.deadline.toISOString()} has passed: give a later time`);
  if (row.state === 'expired' && !req.deadline) {
    throw new WindowCommandError(`window ${req.window} of '${req.jobName}' expired (${row.expired ?? 0} recipients recorded expired): to send them after all, give --deadline <a later time>`);
  }
  const deadline = req.deadline ?? row.deadline;
  if (!deadline || deadline <= now) {
    throw new WindowCommandError(`window ${req.window} of '${req.jobName}': its deadline (${row.deadline?.toISOString() ?? 'none'}) has passed: give --deadline <a later time>`);
  }
  if (!row.scheduledAt) throw new WindowCommandError(`window ${req.window} of '${req.jobName}' began before the window ledger: backfill its tick instead (sendonce backfill)`);
  await withTransaction(pool, async (tx) => {
    await tx.query('DELETE FROM sendonce.window_expired_recipients WHERE job_name = $1 AND window_key = $2', [req.jobName, req.window]);
    await tx.query(
      `UPDATE sendonce.job_windows SET state = 'incomplete', reason = 'finish requested by an operator', deadline = $3, follow_ups = 0,
              next_follow_up_at = now(), unsent = NULL, expired = NULL, updated_at = now()
        WHERE job_name = $1 AND window_key = $2`,
      [req.jobName, req.window, deadline],
    );
  });
  return (await getWindow(pool, req.jobName, req.window))!;
}

/** Move the deadline to now: the keeper records the window's unsent recipients expired at its next round. */
export async function expireWindow(pool: Pool, req: { jobName: string; window: string }): Promise<WindowRow> {
  const row = await windowOrThrow(pool, req.jobName, req.window);
  const settled: WindowState[] = ['complete', 'expired'];
  if (settled.includes(row.state)) throw new WindowCommandError(`window ${req.window} of '${req.jobName}' is ${row.state}: nothing to expire`);
  if (!row.scheduledAt) throw new WindowCommandError(`window ${req.window} of '${req.jobName}' began before the window ledger: the keeper cannot walk it`);
  await pool.query(
    `UPDATE sendonce.job_windows SET deadline = LEAST(deadline, now()), next_follow_up_at = NULL, updated_at = now() WHERE job_name = $1 AND window_key = $2`,
    [req.jobName, req.window],
  );
  return (await getWindow(pool, req.jobName, req.window))!;
}
