/**
 * Issue 5, acceptance 5: per-sender hourly cap (a 3-second bucket stands in for the hour) and minimum gap.
 * Over the cap a send waits for the next bucket in the workflow (durable timer): no recipient twice, no retry
 * attempt used (retries 0, attempts 1 on every row). Redis unreachable for the limiter → the run stops
 * sending (fail closed) and says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLockRedisClient } from '../../src/lock';
import { bucketLabel } from '../../src/activities/rate-limit';
import { userEmails } from '../../devkit/seed';
import { startHarness, testJob } from '../support/harness';
import { assertCountsAddUp, assertOneEach, harnessFor, runBatch, sendRows } from '../support/never-twice';
import { eventually } from '../support/eventually';

const BUCKET_MS = 3_000;
const CAP = 3;

test('bucket labels: YYYYMMDDHH for the hour, with minutes and seconds for shorter test buckets', () => {
  assert.equal(bucketLabel(new Date('2026-11-23T14:59:59Z')), '2026112314');
  assert.equal(bucketLabel(new Date('2026-11-23T14:00:04Z'), BUCKET_MS), '20261123140003');
});

test(`cap ${CAP} per bucket, ${2 * CAP} recipients: ${CAP} in the first bucket, the rest in the next, no attempt used`, async (t) => {
  const job = testJob({ rateLimit: { perSenderPerHour: CAP, bucketMs: BUCKET_MS } });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(2 * CAP);
  await h.seedUsers(addresses);
  // Start just after a bucket begins, so the first CAP sends all land in that bucket.
  await eventually(async () => Date.now() % BUCKET_MS > 100 && Date.now() % BUCKET_MS < 800, 'the start of a bucket', 5_000);

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, addresses.length);
  assert.equal(summary.counts.retries, 0, 'waiting for budget used no retry attempt');
  assert.ok(summary.counts.rateLimitWaits >= CAP, `rateLimitWaits ${summary.counts.rateLimitWaits}`);
  assertCountsAddUp(summary, addresses.length);
  assertOneEach(h, addresses);
  assert.equal(h.sink.count, addresses.length);

  const rows = [...(await sendRows(h, job)).values()];
  assert.deepEqual(rows.map((r) => [r.state, r.attempts]), rows.map(() => ['sent', 1]));
  const { rows: buckets } = await h.db.pool.query<{ bucket: string; n: number }>(
    `SELECT floor(extract(epoch FROM sent_at) * 1000 / $2)::text AS bucket, count(*)::int AS n
       FROM sendonce.email_sends WHERE job_name = $1 GROUP BY 1 ORDER BY 1`,
    [job.name, BUCKET_MS],
  );
  assert.deepEqual(buckets.map((b) => b.n), [CAP, CAP], `sends per bucket: ${JSON.stringify(buckets)}`);
  assert.equal(Number(buckets[1]!.bucket) - Number(buckets[0]!.bucket), 1, 'the rest went in the very next bucket');
});

test('minimum gap: sends of the job are spaced by at least minGapMs', async (t) => {
  const gapMs = 400;
  const job = testJob({ rateLimit: { minGapMs: gapMs } });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(4);
  await h.seedUsers(addresses);

  const summary = await runBatch(h, job);
  assert.equal(summary.counts.sent, addresses.length);
  assert.equal(summary.counts.retries, 0);
  assertOneEach(h, addresses);
  const { rows } = await h.db.pool.query<{ ms: number }>(
    `SELECT (extract(epoch FROM sent_at) * 1000)::float8 AS ms FROM sendonce.email_sends WHERE job_name = $1 ORDER BY sent_at`,
    [job.name],
  );
  for (let i = 1; i < rows.length; i++) {
    // sent_at is written after SMTP answered, so allow a little jitter around the reserved spacing.
    assert.ok(rows[i]!.ms - rows[i - 1]!.ms >= gapMs - 60, `gap ${i}: ${rows[i]!.ms - rows[i - 1]!.ms} ms`);
  }
});

test('rate limiter Redis unreachable: the run stops sending (fail closed), claims nothing, and says why', async (t) => {
  const job = testJob({ rateLimit: { perSenderPerHour: 100 } });
  const h = await startHarness({ jobs: [job] });
  t.after(() => h.close());
  const deadRedis = createLockRedisClient('redis://127.0.0.1:1');
  t.after(() => deadRedis.disconnect());
  h.deps.rateLimitRedis = deadRedis; // the lock keeps the working Redis; only the limiter's is down
  await h.startWorker();
  await h.seedUsers(userEmails(3));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'stopped');
  assert.equal(summary.reason, 'rate_limiter_unavailable');
  assert.equal(summary.counts.sent, 0);
  assert.equal(h.sink.count, 0);
  assert.equal((await sendRows(h, job)).size, 0, 'nothing claimed: the next run sends them');
});
