/**
 * Suppressions for operators (`sendonce suppressions list|add|remove`): who is not mailed any more and why —
 * unsubscribed (from one job, or from everything), a hard bounce (the mailbox does not exist), a complaint, or an
 * operator (manual). One entry per reason; removing one never removes another, and every removal is kept.
 */
import os from 'node:os';
import type { Pool } from 'pg';
import { withTransaction } from '../db/transaction';
import { SuppressionError } from '../errors';
import type { JobRegistry } from '../jobs';
import { addressProblem } from '../delivery';
import { addressHash } from '../suppressions/address-hash';
import { deleteSuppressions, listSuppressionRows, recordSuppression, SUPPRESSION_REASONS, type SuppressionReason, type SuppressionRow } from '../suppressions/store';

export type { SuppressionRow, SuppressionReason };
export { SUPPRESSION_REASONS };
export { unsubscribeWithToken } from '../suppressions/unsubscribe';

const REASONS = SUPPRESSION_REASONS;

/** Every reason on record, one row each (a recipient unsubscribed and hard-bounced is listed twice). */
export async function listSuppressions(pool: Pool, opts: { job?: string; reason?: string; limit?: number } = {}): Promise<SuppressionRow[]> {
  if (opts.reason !== undefined && !REASONS.includes(opts.reason as SuppressionReason)) {
    throw new SuppressionError(`--reason must be one of ${REASONS.join(', ')}, got '${opts.reason}'`);
  }
  return listSuppressionRows(pool, { ...opts, reason: opts.reason as SuppressionReason | undefined });
}

export type AddSuppressionRequest =
  /** No mail of any job to this address. */
  | { address: string; note?: string }
  /** No more mail of this job to this recipient (the job's recipient id). */
  | { job: string; recipientId: string; note?: string; jobs: JobRegistry };

/** Idempotent: `added` is false when the address or job recipient was already suppressed by hand. */
export async function addSuppression(pool: Pool, req: AddSuppressionRequest): Promise<{ added: boolean }> {
  const detail = req.note?.trim() || undefined;
  if ('address' in req) {
    const problem = addressProblem(req.address);
    if (problem) throw new SuppressionError(`--address: ${problem}`);
    const address = req.address.trim().toLowerCase();
    return { added: await recordSuppression(pool, { scope: 'address', addressHash: addressHash(address), address, reason: 'manual', detail }) };
  }
  if (!req.recipientId) throw new SuppressionError('--recipient is required with --job (the job\'s recipient id)');
  req.jobs.get(req.job);
  return { added: await recordSuppression(pool, { scope: 'job', jobName: req.job, recipientId: req.recipientId, reason: 'manual', detail }) };
}

/**
 * All or nothing: every id must exist, or nothing is removed. The next window mails them again, unless another
 * reason is still on record for them. Each removed entry is kept in suppression_removals (who, when).
 */
export async function removeSuppressions(pool: Pool, ids: readonly number[]): Promise<{ removed: number[] }> {
  if (ids.length === 0) throw new SuppressionError('name the suppressions to remove (ids from `sendonce suppressions list`)');
  const by = process.env.USER ?? os.userInfo().username;
  return withTransaction(pool, async (db) => {
    const removed = await deleteSuppressions(db, ids, by, null);
    const missing = ids.filter((id) => !removed.includes(id));
    if (missing.length > 0) throw new SuppressionError(`no suppression with id ${missing.join(', ')} (see \`sendonce suppressions list\`); nothing was removed`);
    return { removed };
  });
}
