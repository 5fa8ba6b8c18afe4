/** Dead letters: sends that ended non-retryable or used up their attempts, with the last error. */
import type { Pool } from 'pg';

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
       FROM dead_letters
      WHERE ($1::text IS NULL OR job_name = $1) AND ($2 OR redriven_at IS NULL)
      ORDER BY id`,
    [opts.job ?? null, opts.includeRedriven ?? false],
  );
  return rows;
}
