/**
 * One-off emails scheduled for a time: a job whose recipients are the rows of scheduled_emails.
 *
 * Each one-off job serves ONE template (rows with `template = job.template`). Why not any template per row:
 * everything else in sendonce is per job — the idempotency key, the start-up template check, dead letters,
 * rate limits, the schedule — and stays so; one more template is one more line in your jobs list. The
 * window is 'once', so the key is `email:{template}:{rowId}:once`: a row is sent at most once, ever, by the
 * first tick whose nominal time is at or after its due_at — whatever crashes, restarts or backfills happen.
 */
import { idempotencyKeySql } from '../sends/key';
import { BUILT_IN_VARIABLES, templateVariables, type EmailTemplate } from '../templates';
import { groupedLoader } from './grouped-loader';
import type { JobDefinition } from './types';

export interface OneOffJobOptions {
  name: string;
  template: EmailTemplate;
  /** How often due rows are looked for: the latest a row is sent after its due time. Default 1m. */
  every?: string;
  rateLimit?: JobDefinition['rateLimit'];
  retry?: JobDefinition['retry'];
}

export function oneOffJob(options: OneOffJobOptions): JobDefinition {
  const template = options.template.name;
  return {
    name: options.name,
    kind: 'one-off',
    template,
    // Values come from each row; scheduleEmail() checks them against the template before the row is written.
    variables: templateVariables(options.template).filter((v) => !BUILT_IN_VARIABLES.includes(v)),
    schedule: { every: options.every ?? '1m', catchupWindow: '5m', maxRunDuration: '1h' },
    window: { granularity: 'once', timezone: 'UTC' },
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    async recipientPage(db, { afterId, limit, scheduledAt }) {
      // Rows finished earlier (sent, dead, unknown) are left out, so each tick reads only what is still to do.
      const { rows } = await db.query<{ id: string }>(
        `SELECT e.id::text AS id FROM sendonce.scheduled_emails e
          WHERE e.template = $1 AND e.due_at <= $2 AND ($3::bigint IS NULL OR e.id > $3::bigint)
            AND NOT EXISTS (SELECT 1 FROM sendonce.email_sends s
                             WHERE s.idempotency_key = ${idempotencyKeySql('$1', 'e.id::text', "'once'")}
                               AND s.state IN ('sent', 'dead', 'unknown'))
          ORDER BY e.id LIMIT $4`,
        [template, scheduledAt, afterId, limit],
      );
      return rows.map((r) => r.id);
    },
    loadRecipient: groupedLoader(async (db, ids) => {
      const { rows } = await db.query<{ id: string; email: string; values: Record<string, string | number> }>(
        `SELECT id::text AS id, email, "values" FROM sendonce.scheduled_emails WHERE id = ANY($1::bigint[]) AND template = $2`,
        [ids, template],
      );
      return rows.map((row) => ({ id: row.id, email: row.email, values: row.values }));
    }),
  };
}
