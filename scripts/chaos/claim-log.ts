/**
 * Observation only, installed in a chaos repetition's own database (never in a migration): a trigger that
 * appends every claim — a row entering `claimed`, first claim or takeover — with its fence and the database
 * clock at that moment. The no-overlap invariant (invariants.ts) reads it: once a newer lock holder has
 * claimed anything, no claim may carry an older fence. A second trigger keeps every version of every row
 * (chaos_send_history): a failed soak's evidence tells a key's story from it. The product never reads either table.
 */
import type { Pool } from 'pg';

const INSTALL = `
  CREATE TABLE IF NOT EXISTS chaos_claim_log (
    id              bigserial   PRIMARY KEY,
    idempotency_key text        NOT NULL,
    job_name        text        NOT NULL,
    fence           bigint      NOT NULL,
    attempts        integer     NOT NULL,
    run_id          text        NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE OR REPLACE FUNCTION chaos_log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.state = 'claimed' AND (TG_OP = 'INSERT' OR OLD.state <> 'claimed' OR OLD.attempts <> NEW.attempts) THEN
      INSERT INTO chaos_claim_log (idempotency_key, job_name, fence, attempts, run_id)
      VALUES (NEW.idempotency_key, NEW.job_name, NEW.fence, NEW.attempts, NEW.run_id);
    END IF;
    RETURN NEW;
  END $$;
  DROP TRIGGER IF EXISTS chaos_claim_log ON sendonce.email_sends;
  CREATE TRIGGER chaos_claim_log AFTER INSERT OR UPDATE ON sendonce.email_sends
    FOR EACH ROW EXECUTE FUNCTION chaos_log_claim();

  -- Every version of every row (for a failed soak's evidence: a key's story, step by step).
  CREATE TABLE IF NOT EXISTS chaos_send_history (
    id              bigserial   PRIMARY KEY,
    op              text        NOT NULL,
    idempotency_key text        NOT NULL,
    job_name        text        NOT NULL,
    state           text,
    attempts        integer,
    resends         integer,
    fence           bigint,
    run_id          text,
    lease_until     timestamptz,
    last_error_type text,
    last_smtp_code  integer,
    reason          text,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE OR REPLACE FUNCTION chaos_log_send() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE r sendonce.email_sends;
  BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    INSERT INTO chaos_send_history (op, idempotency_key, job_name, state, attempts, resends, fence, run_id, lease_until,
                                    last_error_type, last_smtp_code, reason)
    VALUES (TG_OP, r.idempotency_key, r.job_name, r.state, r.attempts, r.resends, r.fence, r.run_id, r.lease_until,
            r.last_error_type, r.last_smtp_code, r.reason);
    RETURN NULL;
  END $$;
  DROP TRIGGER IF EXISTS chaos_send_history ON sendonce.email_sends;
  CREATE TRIGGER chaos_send_history AFTER INSERT OR UPDATE OR DELETE ON sendonce.email_sends
    FOR EACH ROW EXECUTE FUNCTION chaos_log_send();`;

export async function installClaimLog(pool: Pool): Promise<void> {
  await pool.query(INSTALL);
}

export interface ClaimEvent {
  key: string;
  fence: number;
  runId: string;
  at: Date;
}

/** Every logged claim of a job in commit-clock order; undefined when the log is not installed. */
export async function claimEvents(pool: Pool, jobName: string): Promise<ClaimEvent[] | undefined> {
  const { rows: exists } = await pool.query<{ t: string | null }>(`SELECT to_regclass('chaos_claim_log')::text AS t`);
  if (!exists[0]?.t) return undefined;
  const { rows } = await pool.query<{ idempotency_key: string; fence: number; run_id: string; at: Date }>(
    'SELECT idempotency_key, fence::int AS fence, run_id, at FROM chaos_claim_log WHERE job_name = $1 ORDER BY at, id',
    [jobName],
  );
  return rows.map((r) => ({ key: r.idempotency_key, fence: r.fence, runId: r.run_id, at: r.at }));
}

/** Every version of one row, oldest first (chaos_send_history). */
export async function sendHistory(pool: Pool, key: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await pool.query('SELECT * FROM chaos_send_history WHERE idempotency_key = $1 ORDER BY at, id', [key]);
  return rows as Array<Record<string, unknown>>;
}
