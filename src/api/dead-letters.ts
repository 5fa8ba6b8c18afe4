/** Dead letters: sends that ended non-retryable or used up their attempts, with the last error; and redrive. */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../db/transaction';
import { RedriveError } from '../errors';
import type { JobRegistry } from '../jobs';
import { reopenDeadLetter } from '../sends/redrive';
import { liftHardBounces } from '../suppressions/store';
import { startReopenedRuns, type RedriveRun, type ReopenedKey } from './reopened-runs';

export type { RedriveRun };

export interface DeadLetterRow {
  id: number;
  jobName: string;
  recipientId: string;
  idempotencyKey: string;
  errorType: string;
  smtpCode: number | null;
  smtpResponse: string | null;
  attempts: number;
  runId: string;
  createdAt: string;
  redrivenAt: string | null;
}

export async function listDeadLetters(pool: Pool, opts: { job?: string; includeRedriven?: boolean } = {}): Promise<DeadLetterRow[]> {
  const { rows } = await pool.query<DeadLetterRow>(
    `SELECT id, job_name AS "jobName", recipient_id AS "recipientId", idempotency_key AS "idempotencyKey",
            error_type AS "errorType", smtp_code AS "smtpCode", smtp_response AS "smtpResponse", attempts,
            run_id AS "runId",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
            to_char(redriven_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "redrivenAt"
       FROM sendonce.dead_letters
      WHERE ($1::text IS NULL OR job_name = $1) AND ($2 OR redriven_at IS NULL)
      ORDER BY id`,
    [opts.job ?? null, opts.includeRedriven ?? false],
  );
  return rows;
}

export interface RedriveRequest {
  /** Dead-letter ids, or `job` + `all` for every open dead letter of a job. */
  ids?: number[];
  job?: string;
  all?: boolean;
  jobs: JobRegistry;
  taskQueue: string;
  idPrefix?: string;
  /** Wait for the redrive runs and return their summaries. */
  wait?: boolean;
  /** Who redrives: kept with any hard-bounce suppression the redrive lifts (default: your user name). */
  by?: string;
}

export interface RedriveResult {
  /** Dead letters marked redriven by this call. */
  redriven: number[];
  /** Asked for, but redriven before (nothing new to do unless their key is still waiting to be sent). */
  alreadyRedriven: number[];
  runs: RedriveRun[];
}

/**
 * Make dead keys eligible again and send them with a redrive run, still at most once per key.
 * One transaction: each dead letter's email_sends row goes dead → failed with its attempts reset (so the claim's
 * retry path takes it) and the dead letter gets redriven_at. Then one batch run per job and window, for the
 * tick of the run that dead-lettered it, restricted to those recipients (it takes the job lock like any run).
 * Only `dead` keys are redriven: `unknown` ones may have been delivered and are never dead letters.
 * A hard bounce's address suppression (learned from that job and recipient) is lifted with its dead letter —
 * that reason only: an unsubscribe, complaint or manual suppression of the same person stays, and the redrive run
 * counts them `suppressed` and sends nothing.
 * Keys redriven earlier whose row is still open — `failed` (their redrive run did not get to them, e.g. skipped
 * because the lock was held) or `released` (it gave the claim back: the recipient was ineligible or suppressed
 * then) — are included again; keys already sent are not — redriving twice sends nothing new.
 */
export async function redriveDeadLetters(client: Client, pool: Pool, req: RedriveRequest): Promise<RedriveResult> {
  const hasIds = (req.ids?.length ?? 0) > 0;
  if (hasIds === Boolean(req.job || req.all) || (!hasIds && !(req.job && req.all))) {
    throw new RedriveError('name dead letter ids, or --job <name> --all (not both)');
  }
  if (req.job) req.jobs.get(req.job);
  const marked = await withTransaction(pool, (db) => markRedriven(db, req));
  const runs = await startReopenedRuns(client, req, marked.pending, 'redrive');
  return { redriven: marked.redriven, alreadyRedriven: marked.alreadyRedriven, runs };
}

interface LetterRow {
  id: number;
  job_name: string;
  recipient_id: string;
  idempotency_key: string;
  redriven_at: Date | null;
  state: string;
  window_key: string;
  scheduled_at: Date | null;
}

async function markRedriven(db: PoolClient, req: RedriveRequest) {
  const { rows } = await db.query<LetterRow>(
    `SELECT d.id::int AS id, d.job_name, d.recipient_id, d.idempotency_key, d.redriven_at, s.state, s.window_key, r.scheduled_at
       FROM sendonce.dead_letters d JOIN sendonce.email_sends s USING (idempotency_key) LEFT JOIN sendonce.job_runs r ON r.run_id = d.run_id
      WHERE ${req.ids?.length ? 'd.id = ANY($1::bigint[])' : 'd.job_name = $1 AND d.redriven_at IS NULL'}
      ORDER BY d.id FOR UPDATE OF d, s`,
    [req.ids?.length ? req.ids : req.job],
  );
  const unknown = (req.ids ?? []).filter((id) => !rows.some((r) => r.id === id));
  if (unknown.length > 0) throw new RedriveError(`unknown dead letter id(s): ${unknown.join(', ')} (see \`sendonce dead-letters list --all\`)`);
  const fresh = rows.filter((r) => r.redriven_at === null);
  for (const r of fresh) {
    req.jobs.get(r.job_name);
    await reopenDeadLetter(db, r.id, r.idempotency_key);
  }
  // A redrive says "this mailbox works now": the hard-bounce suppression the dead letter's 5.1.1 recorded goes too,
  // or the redrive run would skip the recipient as suppressed. Only that reason: if the person also unsubscribed
  // (or complained, or an operator suppressed them), that stays and the redrive run sends nothing.
  const by = req.by?.trim() || (process.env.USER ?? os.userInfo().username);
  await liftHardBounces(db, fresh.map((r) => ({ jobName: r.job_name, recipientId: r.recipient_id, deadLetterId: r.id })), by);
  const pending = rows.filter((r) => r.redriven_at === null ? r.state === 'dead' : r.state === 'failed' || r.state === 'released');
  return {
    redriven: fresh.map((r) => r.id),
    alreadyRedriven: rows.filter((r) => r.redriven_at !== null).map((r) => r.id),
    pending: pending.map((r): ReopenedKey => {
      if (!r.scheduled_at) throw new RedriveError(`dead letter ${r.id}: the run that dead-lettered it is missing from job_runs`);
      return { jobName: r.job_name, recipientId: r.recipient_id, window: r.window_key, scheduledAt: r.scheduled_at };
    }),
  };
}
