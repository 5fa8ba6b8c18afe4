/**
 * The outgoing message of one claimed key: checked addresses, rendered template, our headers. Transport-neutral
 * (delivery/types.ts): how it goes on the wire is the transport's business.
 */
import { assertValidAddress, assertValidDisplayName, type OutgoingMessage } from '../delivery';
import { unsubscribeScopeOf, type Recipient } from '../jobs';
import { unsubscribeLink, type UnsubscribeLink } from '../suppressions/links';
import { renderTemplate } from '../templates';
import type { Attempt, SendDeps } from './send-attempt';

type MessageDeps = Pick<SendDeps, 'jobs' | 'mailFrom' | 'unsubscribe' | 'clock'>;

/** Null when the recipient is no longer eligible; throws InvalidRecipientError / TemplateError on bad data. */
export function buildMessage(deps: MessageDeps, attempt: Attempt, recipient: Recipient | null): OutgoingMessage | null {
  if (!recipient) return null;
  const { input, job, key, messageId } = attempt;
  const who = `recipient ${input.recipientId}`;
  assertValidAddress(recipient.email, who);
  assertValidDisplayName(recipient.displayName, who);
  for (const cc of recipient.cc ?? []) assertValidAddress(cc, `${who} cc`);
  const link = linkFor(deps, attempt, recipient.email);
  const rendered = renderTemplate(deps.jobs.template(job), { ...recipient.values, window: input.window, unsubscribeUrl: link?.url ?? '' });
  return {
    from: deps.mailFrom,
    to: { name: recipient.displayName ?? '', address: recipient.email },
    ...(recipient.cc ? { cc: recipient.cc.map((address) => ({ name: '', address })) } : {}),
    messageId,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    headers: { 'X-Sendonce-Key': key, ...link?.headers },
    ...(link ? { listUnsubscribe: link.listUnsubscribe } : {}),
  };
}

/** The recipient's one-click unsubscribe link (RFC 8058), when the job has one and the deployment serves it. */
function linkFor(deps: MessageDeps, attempt: Attempt, address: string): UnsubscribeLink | undefined {
  const scope = unsubscribeScopeOf(attempt.job);
  if (!scope || !deps.unsubscribe) return undefined;
  const who = { jobName: attempt.job.name, recipientId: attempt.input.recipientId, address, scope };
  return unsubscribeLink(deps.unsubscribe, who, (deps.clock ?? (() => new Date()))());
}
