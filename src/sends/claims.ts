/**
 * The email_sends state machine — where "at most once per key" lives. One row per idempotency key (key.ts);
 * this file claims keys, marks.ts records outcomes, failure-branch.ts is the failure branch, redrive.ts reopens.
 *
 *   (no row) --claim--> claimed --SMTP accepted--> sent
 *                          |--SMTP refused/4xx----> failed --reclaim (next attempt)--> claimed
 *                          |                          `--attempts exhausted / permanent--> dead   (failure-branch.ts)
 *                          |--reply lost after DATA--> unknown   (or failed, once, under resend-once)
 *                          |--attempt died, lease expired--> unknown (found by the next attempt or run)
 *                          `--given back, nothing sent (ineligible, suppressed)--> (no row) if the claim was fresh,
 *                               else released (reclaimed like failed), or unknown if a copy may be out (marks.ts)
 *
 * Every transition is one short statement or transaction; none stays open across the SMTP call
 * (one "insert, send, commit" transaction would resend after a crash between the server's accept and COMMIT).
 * Leases and timestamps use the database clock, so skewed workers agree.
 * A claim carries the lock's fence: Postgres refuses it when a newer lock holder exists for the job.
 */
import type { Pool, PoolClient } from 'pg';
import { Coalescer } from '../db/coalesce';
import { perPool } from '../db/per-pool';
import { withTransaction } from '../db/transaction';
import type { SendState } from '../contract';
import { attemptsExhausted } from '../retry';

export type { SendState };

export interface ClaimRequest {
  key: string;
  jobName: string;
  template: string;
  recipientId: string;
  window: string;
  fence: number;
  runId: string;
  messageId: string;
  /** How long this attempt may hold the claim: the activity's start-to-close timeout. */
  leaseMs: number;
  maximumAttempts: number;
  /** Resend once (same Message-ID) when an earlier attempt's outcome is unknown. */
  resendUnknownOnce: boolean;
}

export type ClaimResult =
  /** This attempt owns the key and may send; `attempt` identifies the claim for the mark step. */
  | { kind: 'claimed'; attempt: number; resends: number }
  /**
   * Already finished (sent, dead, or unknown without a resend left): nothing to do. `byThisRun`: an earlier
   * attempt of the same run finished it (its result never reached the workflow, e.g. the worker died).
   */
  | { kind: 'duplicate'; state: Extract<SendState, 'sent' | 'dead' | 'unknown'>; byThisRun: boolean }
  /** Another attempt holds a live claim (its lease has not expired). */
  | { kind: 'busy' }
  /** A newer lock holder exists for this job: this run must stop sending. */
  | { kind: 'fenced' }
  /** The key used all its attempts in earlier tries; the dead-letter branch takes it from here. */
  | { kind: 'exhausted'; attempts: number }
  /** An earlier attempt claimed the key and died before recording the outcome: now `unknown`. */
  | { kind: 'lost' };

const LOST_REASON = 'attempt lost after claim: the outcome was not recorded before the claim lease expired';

/**
 * Fast path: INSERT … ON CONFLICT DO NOTHING that also checks the fence, for one key or for the keys of many
 * concurrent sends (group commit, src/db/coalesce.ts). Rows go in key order, so two workers' batches cannot
 * deadlock on each other.
 */
const INSERT_CLAIMS = `
  INSERT INTO sendonce.email_sends
    (idempotency_key, job_name, template, recipient_id, window_key, state, attempts, fence, run_id, message_id, lease_until)
  SELECT r.key, r.job, r.template, r.recipient, r.win, 'claimed', 1, r.fence, r.run, r.msg, now() + r.lease * interval '1 millisecond'
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::float8[])
         AS r(key, job, template, recipient, win, fence, run, msg, lease)
   WHERE r.fence >= COALESCE((SELECT f.current_fence FROM sendonce.job_fences f WHERE f.job_name = r.job), 0)
   ORDER BY r.key
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING idempotency_key, attempts, resends`;

type Inserted = { attempts: number; resends: number } | null;

async function insertClaims(db: Pool | PoolClient, reqs: ClaimRequest[]): Promise<Inserted[]> {
  // A key asked twice in one batch (two runs of a window, or two attempts, at once) goes in with its FIRST request
  // only; the others get null and take the slow path (busy, fenced, duplicate). With both in the statement, the
  // RETURNING row would not say whose request was inserted — a stale fence's request could be filtered out and
  // the other's row mistaken for its own: it would send under another run's claim and both would count it.
  const firstOfKey = new Map<string, ClaimRequest>();
  for (const r of reqs) if (!firstOfKey.has(r.key)) firstOfKey.set(r.key, r);
  const firsts = [...firstOfKey.values()];
  const col = <K extends keyof ClaimRequest>(k: K) => firsts.map((r) => r[k]);
  const { rows } = await db.query<{ idempotency_key: string; attempts: number; resends: number }>(INSERT_CLAIMS, [
    col('key'), col('jobName'), col('template'), col('recipientId'), col('window'), col('fence'), col('runId'), col('messageId'), col('leaseMs'),
  ]);
  const byKey = new Map(rows.map((r) => [r.idempotency_key, { attempts: r.attempts, resends: r.resends }]));
  return reqs.map((r) => (firstOfKey.get(r.key) === r ? (byKey.get(r.key) ?? null) : null));
}

/** Per pool: the claim inserts of concurrent sends, grouped into one statement (see src/db/coalesce.ts). */
const inserters = perPool((pool) => new Coalescer((reqs: ClaimRequest[]) => insertClaims(pool, reqs), async (req) => (await insertClaims(pool, [req]))[0] ?? null));

export async function claim(pool: Pool, req: ClaimRequest): Promise<ClaimResult> {
  const row = await inserters(pool).run(req);
  if (row) return { kind: 'claimed', attempt: row.attempts, resends: row.resends };
  return reclaim(pool, req);
}

/** Slow path: the key exists, or the fence is stale. Decided under a row lock in one short transaction. */
function reclaim(pool: Pool, req: ClaimRequest): Promise<ClaimResult> {
  return withTransaction(pool, (client) => decide(client, req));
}

interface ExistingRow {
  state: SendState;
  run_id: string;
  attempts: number;
  resends: number;
  lease_expired: boolean;
}

async function decide(client: PoolClient, req: ClaimRequest): Promise<ClaimResult> {
  const fence = await client.query<{ current_fence: number }>(
    'SELECT current_fence FROM sendonce.job_fences WHERE job_name = $1',
    [req.jobName],
  );
  const currentFence = fence.rows[0]?.current_fence;
  if (currentFence !== undefined && req.fence < currentFence) return { kind: 'fenced' };
  const { rows } = await client.query<ExistingRow>(
    `SELECT state, run_id, attempts, resends, (lease_until IS NULL OR lease_until < now()) AS lease_expired
       FROM sendonce.email_sends WHERE idempotency_key = $1 FOR UPDATE`,
    [req.key],
  );
  const row = rows[0];
  // No row and the fence is fine: the insert lost a race with a delete (a fresh claim given back). Claim again.
  if (!row) {
    const [r] = await insertClaims(client, [req]);
    return r ? { kind: 'claimed', attempt: r.attempts, resends: r.resends } : { kind: 'busy' };
  }
  const byThisRun = row.run_id === req.runId;
  switch (row.state) {
    case 'sent':
    case 'dead':
      return { kind: 'duplicate', state: row.state, byThisRun };
    case 'unknown':
      if (req.resendUnknownOnce && row.resends === 0) return takeOver(client, req, { resend: true });
      return { kind: 'duplicate', state: 'unknown', byThisRun };
    case 'failed':
    case 'released': // given back with history (marks.ts): open; its attempts count only those that reached the server
      if (attemptsExhausted(req, row.attempts)) return { kind: 'exhausted', attempts: row.attempts };
      return takeOver(client, req, { resend: false });
    case 'claimed':
      if (!row.lease_expired) return { kind: 'busy' };
      // The attempt that claimed this key is over and never recorded an outcome: it may have died before SMTP,
      // or after the server accepted the message. We cannot tell, so it is ambiguous.
      if (req.resendUnknownOnce && row.resends === 0) return takeOver(client, req, { resend: true });
      await client.query(
        `UPDATE sendonce.email_sends SET state = 'unknown', lease_until = NULL, reason = $2, updated_at = now()
          WHERE idempotency_key = $1`,
        [req.key, LOST_REASON],
      );
      return { kind: 'lost' };
  }
}

async function takeOver(client: PoolClient, req: ClaimRequest, opts: { resend: boolean }): Promise<ClaimResult> {
  const { rows } = await client.query<{ attempts: number; resends: number }>(
    `UPDATE sendonce.email_sends
        SET state = 'claimed', attempts = attempts + 1, resends = resends + $2::int, fence = $3, run_id = $4,
            lease_until = now() + $5 * interval '1 millisecond', updated_at = now()
      WHERE idempotency_key = $1
      RETURNING attempts, resends`,
    [req.key, opts.resend ? 1 : 0, req.fence, req.runId, req.leaseMs],
  );
  const r = rows[0]!;
  return { kind: 'claimed', attempt: r.attempts, resends: r.resends };
}

/** A key that is already finished (sent, dead, or unknown): its state and the run that finished it. */
export interface FinishedKey {
  state: Extract<SendState, 'sent' | 'dead' | 'unknown'>;
  runId: string;
}

/**
 * Which of `keys` are already finished — one indexed statement for a whole page, so that a tick with nothing new
 * to send costs one query per page instead of a send per recipient. Only a shortcut: the claim stays the guarantee
 * (a key finished after this read is still refused by its claim).
 */
export async function finishedKeys(pool: Pool, keys: string[]): Promise<Map<string, FinishedKey>> {
  if (keys.length === 0) return new Map();
  const { rows } = await pool.query<{ idempotency_key: string; state: FinishedKey['state']; run_id: string }>(
    `SELECT idempotency_key, state, run_id FROM sendonce.email_sends
      WHERE idempotency_key = ANY($1::text[]) AND state IN ('sent', 'dead', 'unknown')`,
    [keys],
  );
  return new Map(rows.map((r) => [r.idempotency_key, { state: r.state, runId: r.run_id }]));
}
