/** The outgoing message of one claimed key: checked addresses, rendered template, our headers. */
import type { Recipient } from '../jobs';
import { assertValidAddress, assertValidDisplayName } from '../smtp/address';
import { renderTemplate } from '../templates';
import type { Attempt, SendDeps } from './send';

export interface OutgoingMessage {
  from: string;
  to: { name: string; address: string };
  cc?: Array<{ name: string; address: string }>;
  messageId: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

/** Null when the recipient is no longer eligible; throws InvalidRecipientError / TemplateError on bad data. */
export function buildMessage(deps: Pick<SendDeps, 'jobs' | 'mailFrom'>, attempt: Attempt, recipient: Recipient | null): OutgoingMessage | null {
  if (!recipient) return null;
  const { input, job, key, messageId } = attempt;
  const who = `recipient ${input.recipientId}`;
  assertValidAddress(recipient.email, who);
  assertValidDisplayName(recipient.displayName, who);
  for (const cc of recipient.cc ?? []) assertValidAddress(cc, `${who} cc`);
  const rendered = renderTemplate(deps.jobs.template(job), { ...recipient.values, window: input.window });
  return {
    from: deps.mailFrom,
    to: { name: recipient.displayName ?? '', address: recipient.email },
    ...(recipient.cc ? { cc: recipient.cc.map((address) => ({ name: '', address })) } : {}),
    messageId,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    headers: { 'X-Sendonce-Key': key },
  };
}
