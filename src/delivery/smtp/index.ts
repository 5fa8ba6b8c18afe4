/**
 * SMTP as a DeliveryTransport: a nodemailer connection pool (connection-pool.ts) whose every outcome is read by
 * classify.ts. The message is handed to nodemailer as { name, address } objects only (never address strings,
 * which nodemailer parses leniently), and List-Unsubscribe through nodemailer's `list` option, which formats and
 * sanitises it.
 */
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { addressProblem } from '../addresses';
import type { DeliveryOutcome, DeliveryTransport, OutgoingMessage } from '../types';
import { classifySendError, classifySendInfo } from './classify';
import { createSmtpPool, type SmtpPool, type SmtpPoolOptions } from './connection-pool';

export type SmtpTransportOptions = SmtpPoolOptions;

export interface SmtpTransport extends DeliveryTransport {
  /** The pool underneath, for what only SMTP has (tests read its connections). */
  readonly pool: SmtpPool;
}

export function createSmtpTransport(opts: SmtpTransportOptions): SmtpTransport {
  const pool = createSmtpPool(opts);
  return {
    name: 'smtp',
    pool,
    async send(message: OutgoingMessage): Promise<DeliveryOutcome> {
      // nodemailer passes an address object's text to the server as it is; what is not an address never leaves.
      const unusable = unusableAddress(message);
      if (unusable) return { kind: 'invalid_recipient', message: unusable };
      try {
        const info = await pool.sendMail(toMailOptions(message));
        return classifySendInfo(info, message.to.address);
      } catch (err) {
        return classifySendError(err);
      }
    },
    async close(): Promise<void> {
      pool.close();
    },
  };
}

function unusableAddress(message: OutgoingMessage): string | undefined {
  const checks = [{ what: 'recipient', address: message.to.address }, ...(message.cc ?? []).map((cc) => ({ what: 'cc', address: cc.address }))];
  for (const { what, address } of checks) {
    const problem = addressProblem(address);
    if (problem) return `${what}: ${problem}`;
  }
  return undefined;
}

function toMailOptions(message: OutgoingMessage): SMTPPool.MailOptions {
  return {
    from: message.from,
    to: message.to,
    ...(message.cc ? { cc: message.cc } : {}),
    messageId: message.messageId,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
    ...(message.listUnsubscribe ? { list: { unsubscribe: [message.listUnsubscribe] } } : {}),
  };
}
