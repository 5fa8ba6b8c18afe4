/**
 * The claim path as a worker runs it, without SMTP: `concurrency` sends in flight, each claim() then markSent()
 * of src/sends on one pool of the worker's size — so concurrent calls are grouped into one statement by the same
 * Coalescer a worker uses. Keys are fresh (a window no row has yet): every claim is an insert.
 */
import type { Pool } from 'pg';
import { createPool } from '../../src/db/pool';
import { claim, idempotencyKey, markSent } from '../../src/sends';
import { messageIdFor } from '../../src/delivery/message-id';

export interface ClaimsRep {
  concurrency: number;
  keys: number;
  wallMs: number;
  perSec: number;
}

/** A pool per table for the whole measurement: createPool's default size (20), as the worker opens it. */
export function claimsPool(url: string): Pool {
  return createPool(url);
}

/** Claim and mark `keys` fresh keys (recipients 1..keys of `window`) with `concurrency` lanes. */
export async function claimAndMark(pool: Pool, window: string, keys: number, concurrency: number): Promise<ClaimsRep> {
  let next = 1;
  const runId = `bench-claims-${window}-${concurrency}`;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let id = next++; id <= keys; id = next++) {
        const recipientId = String(id);
        const key = idempotencyKey('daily-digest', recipientId, window);
        const r = await claim(pool, {
          key,
          jobName: 'daily-digest',
          template: 'daily-digest',
          recipientId,
          window,
          fence: 1,
          runId,
          messageId: messageIdFor(key, 'sendonce.local'),
          leaseMs: 60_000,
          maximumAttempts: 5,
          resendUnknownOnce: false,
        });
        // Fresh keys must all be claimed and marked: anything else means the measurement is not what it says.
        if (r.kind !== 'claimed') throw new Error(`claims benchmark: ${key} was ${r.kind}, expected claimed`);
        if (!(await markSent(pool, key, r.attempt, { smtpCode: 250, smtpResponse: '250 2.0.0 Ok: queued' }))) {
          throw new Error(`claims benchmark: ${key} could not be marked sent`);
        }
      }
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { concurrency, keys, wallMs, perSec: (keys / wallMs) * 1000 };
}

/** Put the table back as it was: the measured window's rows go (the empty table is emptied). */
export async function forgetWindow(pool: Pool, window: string, empty: boolean): Promise<void> {
  if (empty) await pool.query('TRUNCATE sendonce.email_sends, sendonce.dead_letters, sendonce.unknown_resolutions');
  else await pool.query(`DELETE FROM sendonce.email_sends WHERE job_name = 'daily-digest' AND window_key = $1`, [window]);
}
