/**
 * The work both baselines do per recipient — the same rows and the same message as sendonce, without an
 * orchestrator: INSERT the claim (email_sends, key email:{template}:{userId}:{window}, ON CONFLICT DO NOTHING),
 * send through the pooled nodemailer transport of src/delivery/smtp/connection-pool.ts, UPDATE the row to `sent`.
 */
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import { getTemplate, renderTemplate } from '../../src/templates';
import { messageIdFor } from '../../src/delivery/message-id';
import { idempotencyKey } from '../../src/sends/key';

export interface BenchRecipient {
  id: string;
  email: string;
  name: string;
}

const TEMPLATE = 'daily-digest';
const template = getTemplate(TEMPLATE);
export const BENCH_WINDOW = new Date().toISOString().slice(0, 10);

/** Keyset page of eligible users (the daily-digest job's query, with the columns the message needs). */
export async function recipientPage(pool: Pool, afterId: string | null, limit: number): Promise<BenchRecipient[]> {
  const { rows } = await pool.query<BenchRecipient>(
    // Order and compare on the bigint column, not the text alias (ORDER BY id would sort '1000' before '999').
    `SELECT users.id::text AS id, email, name FROM users WHERE digest_opt_in AND ($1::bigint IS NULL OR users.id > $1::bigint)
      ORDER BY users.id LIMIT $2`,
    [afterId, limit],
  );
  return rows;
}

export type StepOutcome = 'sent' | 'duplicate';

export async function claimSendMark(pool: Pool, transport: Transporter, r: BenchRecipient, runId: string): Promise<StepOutcome> {
  const key = idempotencyKey(TEMPLATE, r.id, BENCH_WINDOW);
  const messageId = messageIdFor(key, 'sendonce.bench');
  const claimed = await pool.query(
    `INSERT INTO sendonce.email_sends
       (idempotency_key, job_name, template, recipient_id, window_key, state, attempts, fence, run_id, message_id, lease_until)
     VALUES ($1, 'bench', $2, $3, $4, 'claimed', 1, 1, $5, $6, now() + interval '60 seconds')
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING attempts`,
    [key, TEMPLATE, r.id, BENCH_WINDOW, runId, messageId],
  );
  if (claimed.rowCount === 0) return 'duplicate';
  // The same message sendonce sends a user with no digest items (the bench seeds none) and no unsubscribe link.
  const rendered = renderTemplate(template, { name: r.name, items: [], window: BENCH_WINDOW, unsubscribeUrl: '' });
  const info = await transport.sendMail({
    from: 'sendonce <noreply@sendonce.local>',
    to: { name: r.name, address: r.email },
    messageId,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    headers: { 'X-Sendonce-Key': key },
  });
  await pool.query(
    `UPDATE sendonce.email_sends SET state = 'sent', sent_at = now(), lease_until = NULL, last_smtp_response = $2, updated_at = now()
      WHERE idempotency_key = $1 AND attempts = 1 AND state = 'claimed'`,
    [key, String(info.response ?? '')],
  );
  return 'sent';
}
