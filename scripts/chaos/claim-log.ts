/**
 * Observation only, installed in a chaos repetition's own database (never in a migration): a trigger that
 * appends every claim — a row entering `claimed`, first claim or takeover — with its fence and the database
 * clock at that moment. The no-overlap invariant (invariants.ts) reads it: once a newer lock holder has
 * claimed anything, no claim may carry an older fence. The product never reads this table.
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
  DROP TRIGGER IF EXISTS chaos_claim_log ON email_sends;
  CREATE TRIGGER chaos_claim_log AFTER INSERT OR UPDATE ON email_sends
    FOR EACH ROW EXECUTE FUNCTION chaos_log_claim();`;

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
