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
import {
  CONSENT_REASONS,
  deleteSuppressions,
  listSuppressionRemovals,
  listSuppressionRows,
  lockSuppressionRows,
  recordSuppression,
  SUPPRESSION_REASONS,
  type SuppressionReason,
  type SuppressionRemovalRow,
  type SuppressionRow,
} from '../suppressions/store';

export type { SuppressionRow, SuppressionRemovalRow, SuppressionReason };
export { SUPPRESSION_REASONS };
export { unsubscribeWithToken } from '../suppressions/unsubscribe';

function reasonOption(reason: string | undefined): SuppressionReason | undefined {
  if (reason !== undefined && !SUPPRESSION_REASONS.includes(reason as SuppressionReason)) {
    throw new SuppressionError(`--reason must be one of ${SUPPRESSION_REASONS.join(', ')}, got '${reason}'`);
  }
  return reason as SuppressionReason | undefined;
}

/** Every reason on record, one row each (a recipient unsubscribed and hard-bounced is listed twice). */
export async function listSuppressions(pool: Pool, opts: { job?: string; reason?: string; limit?: number } = {}): Promise<SuppressionRow[]> {
  return listSuppressionRows(pool, { ...opts, reason: reasonOption(opts.reason) });
}

/** Suppressions removed earlier (by `removeSuppressions` or a redrive lifting a hard bounce): who, when and why. */
export async function listRemovedSuppressions(pool: Pool, opts: { job?: string; reason?: string; limit?: number } = {}): Promise<SuppressionRemovalRow[]> {
  return listSuppressionRemovals(pool, { ...opts, reason: reasonOption(opts.reason) });
}

/** What an operator may add: by hand, or a spam complaint learned elsewhere (sendonce does not read mail). */
export type AddedReason = Extract<SuppressionReason, 'manual' | 'complaint'>;

export type AddSuppressionRequest =
  /** No mail of any job to this address. */
  | { address: string; note?: string; reason?: AddedReason }
  /** No more mail of this job to this recipient (the job's recipient id). */
  | { job: string; recipientId: string; note?: string; reason?: AddedReason; jobs: JobRegistry };

/** Idempotent: `added` is false when the address or job recipient was already suppressed for this reason. */
export async function addSuppression(pool: Pool, req: AddSuppressionRequest): Promise<{ added: boolean }> {
  const detail = req.note?.trim() || undefined;
  const reason = req.reason ?? 'manual';
  if (reason !== 'manual' && reason !== 'complaint') throw new SuppressionError(`--reason must be manual or complaint, got '${String(reason)}'`);
  if ('address' in req) {
    const problem = addressProblem(req.address);
    if (problem) throw new SuppressionError(`--address: ${problem}`);
    const address = req.address.trim().toLowerCase();
    return { added: await recordSuppression(pool, { scope: 'address', addressHash: addressHash(address), address, reason, detail }) };
  }
  if (!req.recipientId) throw new SuppressionError('--recipient is required with --job (the job\'s recipient id)');
  req.jobs.get(req.job);
  return { added: await recordSuppression(pool, { scope: 'job', jobName: req.job, recipientId: req.recipientId, reason, detail }) };
}

export interface RemoveSuppressionsOptions {
  /** Required (with a note) to remove an unsubscribe or a complaint: the person asked not to be mailed. */
  force?: boolean;
  /** Why: kept with the removal; required with force. */
  note?: string;
  /** Who (default: your user name). */
  by?: string;
}

/**
 * All or nothing: every id must exist, or nothing is removed. The next window mails them again, unless another
 * reason is still on record for them. Each removed entry is kept in suppression_removals (who, when, the note).
 * An unsubscribe or complaint is refused unless `force` and a `note` are given.
 */
export async function removeSuppressions(pool: Pool, ids: readonly number[], opts: RemoveSuppressionsOptions = {}): Promise<{ removed: number[] }> {
  if (ids.length === 0) throw new SuppressionError('name the suppressions to remove (ids from `sendonce suppressions list`)');
  const note = opts.note?.trim() || null;
  if (opts.force && !note) throw new SuppressionError('--force needs --note "<why>" (kept with the removal)');
  const by = opts.by?.trim() || (process.env.USER ?? os.userInfo().username);
  return withTransaction(pool, async (db) => {
    const rows = await lockSuppressionRows(db, ids);
    const missing = ids.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length > 0) throw new SuppressionError(`no suppression with id ${missing.join(', ')} (see \`sendonce suppressions list\`); nothing was removed`);
    const consent = rows.filter((r) => CONSENT_REASONS.includes(r.reason));
    if (consent.length > 0 && !opts.force) throw new SuppressionError(`${consentRefusal(consent)}; to mail them again anyway, add --force --note "<why>"; nothing was removed`);
    return { removed: await deleteSuppressions(db, ids, by, note) };
  });
}

function consentRefusal(rows: ReadonlyArray<{ id: number; reason: SuppressionReason }>): string {
  if (rows.length === 1) {
    const [r] = rows as [{ id: number; reason: SuppressionReason }];
    return r.reason === 'unsubscribe'
      ? `suppression ${r.id} is an unsubscribe (the person asked for no more mail)`
      : `suppression ${r.id} is a complaint (the person reported this mail as spam)`;
  }
  return `suppressions ${rows.map((r) => r.id).join(', ')} are unsubscribes or complaints (the people asked for no more mail)`;
}
