/**
 * SENDONCE_JOBS_MODULE of the history recorder (record.ts): one job per workflow path worth replaying, each with
 * its own template copy (jobs may not share a template in same-granularity windows).
 */
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { oneOffJob, type JobDefinition } from '../../src/jobs';
import { templates as builtIn, type EmailTemplate } from '../../src/templates';

const quick = { maximumAttempts: 2, initialIntervalMs: 200, maximumIntervalMs: 500, attemptTimeoutMs: 5_000, totalTimeoutMs: 30_000 };
const digest = (name: string, more: Partial<JobDefinition> = {}): JobDefinition => ({ ...dailyDigest, name, template: name, retry: quick, ...more });

export const jobs: JobDefinition[] = [
  digest('replay-small'),
  digest('replay-chain', { pageSize: 10, chunkSize: 5, maxInFlight: 10, continueAsNewAfterEvents: 60 }),
  digest('replay-limited', { rateLimit: { perSenderPerHour: 2, bucketMs: 1_000 } }),
  digest('replay-single', { chunkSize: 1, maxInFlight: 2 }),
  digest('replay-budget', { chunkSize: 1, maxInFlight: 1, timeBudget: '2s' }),
  digest('replay-order', {
    async recipientPage(db, { afterId, limit }) {
      // The keyset trap on purpose (ids ordered as text): the run fails with recipient_page_out_of_order.
      const { rows } = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM users WHERE ($1::text IS NULL OR id::text > $1) ORDER BY id::text LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((r) => r.id);
    },
  }),
  oneOffJob({ name: 'replay-once', template: builtIn.notice!, every: '1m' }),
];

export const templates: Record<string, EmailTemplate> = Object.fromEntries(
  jobs.filter((j) => j.kind !== 'one-off').map((j) => [j.template, { ...builtIn['daily-digest']!, name: j.template }]),
);
