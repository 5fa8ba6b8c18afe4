/**
 * Step 2 of a send (send-email.ts): read the recipient and its suppressions, then build the message for the
 * claimed key — or give the claim back when there is nothing to send.
 */
import type { SendInput, SendResult } from '../contract';
import type { OutgoingMessage } from '../delivery';
import type { Recipient } from '../jobs';
import { abandon, markFailed } from '../sends';
import { addressHash } from '../suppressions/address-hash';
import { isSuppressed } from '../suppressions/store';
import { buildMessage } from './build-message';
import type { Attempt, SendDeps } from './send-attempt';

export type Loaded = { recipient: Recipient | null; suppressed: boolean } | { error: unknown };

/**
 * The recipient, and whether it is suppressed: its address for all mail (only the loader knows the address, so
 * only the send can check it), or itself for this job (unsubscribed since its page was read). Both reads are
 * grouped with those of concurrent sends (one statement each).
 */
export function loadAndCheck(deps: SendDeps, input: SendInput): Promise<Loaded> {
  const job = deps.jobs.get(input.jobName);
  const check = async (): Promise<Loaded> => {
    const recipient = await job.loadRecipient(deps.pool, input.recipientId);
    if (!recipient) return { recipient, suppressed: false };
    const hash = typeof recipient.email === 'string' && recipient.email !== '' ? addressHash(recipient.email) : null;
    return { recipient, suppressed: await isSuppressed(deps.pool, { jobName: job.name, recipientId: input.recipientId, addressHash: hash }) };
  };
  // Never rejects: a failed read is handled after the claim (recorded on the row, retried), and a send that ends at
  // its claim (a duplicate) never awaits this at all — a rejection here would go unhandled.
  return check().catch((error: unknown) => ({ error }));
}

/**
 * Step 2: the message for the claimed key, or `ineligible` / `suppressed` (the claim is given back: the key stays
 * open, nothing was sent, and what earlier attempts recorded on the key is kept: src/sends/marks.ts). Bad data for
 * this recipient (address, template values) is permanent: recorded on the row, then thrown to the dead-letter branch.
 */
export async function prepare(deps: SendDeps, attempt: Attempt, loaded: Loaded): Promise<OutgoingMessage | SendResult> {
  if (!('error' in loaded) && loaded.suppressed) {
    // Unsubscribed or a suppressed address (hard bounce, complaint, manual): checked before the message is built, so a
    // suppressed recipient with bad data is not dead-lettered either.
    await abandon(deps.pool, attempt.key, attempt.claimAttempt, 'suppressed');
    return { outcome: 'suppressed', attempt: attempt.attemptNo };
  }
  try {
    if ('error' in loaded) throw loaded.error;
    const message = buildMessage(deps, attempt, loaded.recipient);
    if (message) return message;
  } catch (err) {
    await markFailed(deps.pool, attempt.key, attempt.claimAttempt, { errorType: (err as Error).name, reason: (err as Error).message });
    throw err;
  }
  // No longer eligible (deleted, opted out since the page was read): give the key back, nothing was sent.
  await abandon(deps.pool, attempt.key, attempt.claimAttempt, 'ineligible');
  return { outcome: 'ineligible', attempt: attempt.attemptNo };
}

