/**
 * The idempotency key: the unit of "at most once". One row of email_sends per key. Built here only — in
 * TypeScript for sends and in SQL for queries that look keys up from rows (one-off jobs) — so both agree.
 */

/** `email:{template}:{recipientId}:{window}`. */
export function idempotencyKey(template: string, recipientId: string, window: string): string {
  return `email:${template}:${recipientId}:${window}`;
}

/** The same key as a SQL expression over three SQL expressions (parameters or columns, each cast to text). */
export function idempotencyKeySql(template: string, recipientId: string, window: string): string {
  return `('email:' || ${template} || ':' || ${recipientId} || ':' || ${window})`;
}

/** The key of a job's recipient in a window: jobs key by their template (two jobs of one template share keys). */
export function keyFor(job: { template: string }, recipientId: string, window: string): string {
  return idempotencyKey(job.template, recipientId, window);
}
