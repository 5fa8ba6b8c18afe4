/**
 * Issue 13, point 3: retention. Pruning deletes finished sends (with their dead letters and unknown-resolutions),
 * finished one-off emails and finished runs created before the horizon — batch by batch — and nothing else; a
 * retention too short for the jobs' windows is refused; backfills of ticks whose keys may be pruned are refused
 * with one line; the built-in prune workflow does the same through an activity. Real Postgres, Temporal, SMTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfill } from '../../src/api/schedules';
import { scheduleEmail } from '../../src/api/scheduled-emails';
import { createJobRegistry, oneOffJob } from '../../src/jobs';
import { prune, retentionHorizon } from '../../src/pruning';
import { upsertSchedule } from '../../src/schedule';
import { templates } from '../../src/templates';
import { userEmails } from '../../devkit/seed';
import { testJob } from '../support/harness';
import { harnessFor, runBatch } from '../support/never-twice';
import { runSendonce } from '../support/cli';
import { uniqueName } from '../../devkit/databases';

const DAY = 86_400_000;

test('prune deletes what closed windows no longer need, in batches, and nothing that is still open or recent', async (t) => {
  const digest = testJob();
  const notices = oneOffJob({ name: uniqueName('notices').replace(/_/g, '-'), template: templates.notice!, every: '1m' });
  const h = await harnessFor(t, [digest, notices]);
  const addresses = userEmails(6, 'retention.test');
  await h.seedUsers(addresses);
  h.sink.rejectRcpt((a) => (a === addresses[1] ? { code: 550, message: '5.7.1 refused by policy' } : undefined));
  h.sink.onData((ctx) => (ctx.envelopeRcpt.includes(addresses[2]!) ? 'store-then-drop' : 'accept'));
  const old = await runBatch(h, digest, { scheduledAt: '2026-08-01T10:00:00Z' });
  assert.deepEqual([old.counts.sent, old.counts.dead, old.counts.unknown], [4, 1, 1]);
  await scheduleEmail(h.db.pool, { to: 'someone@retention.test', template: 'notice', values: { subject: 'Hi', body: 'old' }, at: new Date('2026-08-01T09:00:00Z') }, createJobRegistry([digest, notices]));
  assert.equal((await runBatch(h, notices, { scheduledAt: '2026-08-01T10:00:00Z' })).counts.sent, 1);
  await h.db.pool.query(`INSERT INTO sendonce.unknown_resolutions (idempotency_key, resolution, note, resolved_by) SELECT idempotency_key, 'sent', 'x', 'y' FROM sendonce.email_sends WHERE state = 'unknown'`);
  // Everything so far is "old": created 100 days ago.
  await h.db.pool.query(`UPDATE sendonce.email_sends SET created_at = now() - interval '100 days'`);
  await h.db.pool.query(`UPDATE sendonce.job_runs SET started_at = now() - interval '100 days'`);
  // Still open though old (a failed key waits for its retry), and recent: both must stay.
  await h.db.pool.query(`UPDATE sendonce.email_sends SET state = 'failed' WHERE idempotency_key = (SELECT min(idempotency_key) FROM sendonce.email_sends WHERE state = 'sent' AND window_key = '2026-08-01')`);
  const recent = await runBatch(h, digest, { scheduledAt: '2026-11-29T10:00:00Z' });
  assert.equal(recent.counts.sent, 4);

  const jobs = [digest, notices];
  const batches: number[] = [];
  const result = await prune(h.db.pool, jobs, { olderThanMs: 90 * DAY, batchSize: 2, onBatch: (n) => batches.push(n) });
  assert.deepEqual({ sends: result.emailSends, letters: result.deadLetters, scheduled: result.scheduledEmails, runs: result.jobRuns }, { sends: 6, letters: 1, scheduled: 1, runs: 2 });
  assert.ok(batches.length >= 4, `small batches: ${batches.join(', ')}`);
  const left = await h.db.pool.query<{ state: string; window_key: string }>('SELECT state, window_key FROM sendonce.email_sends ORDER BY window_key, state');
  assert.deepEqual(left.rows.map((r) => `${r.window_key} ${r.state}`), ['2026-08-01 failed', ...Array(4).fill('2026-11-29 sent'), '2026-11-29 dead', '2026-11-29 unknown'].sort());
  assert.equal((await h.db.pool.query('SELECT 1 FROM sendonce.dead_letters')).rowCount, 1, "the recent run's dead letter stays");
  assert.equal((await h.db.pool.query('SELECT 1 FROM sendonce.unknown_resolutions')).rowCount, 0, 'resolutions follow their keys');
  assert.equal((await h.db.pool.query('SELECT 1 FROM sendonce.scheduled_emails')).rowCount, 0, 'the sent one-off email went with its key');
  assert.equal((await h.db.pool.query(`SELECT 1 FROM sendonce.job_runs`)).rowCount, 1, 'only the recent run stays');
  const horizon = await retentionHorizon(h.db.pool);
  assert.ok(horizon && Math.abs(horizon.getTime() - (Date.now() - 90 * DAY)) < 60_000);

  // Too short for daily windows: keys of today's window could go and be sent again.
  await assert.rejects(prune(h.db.pool, jobs, { olderThanMs: 3_600_000 }), /retention of 1 h is too short: these jobs' windows need at least 48 h/);

  // Backfills before the horizon (plus a day: a daily window's rows can be older than its tick) are refused.
  const idPrefix = uniqueName('ret');
  const schedule = await upsertSchedule(h.client, digest, { taskQueue: h.taskQueue, idPrefix, paused: true });
  t.after(() => schedule.delete().catch(() => undefined));
  const ref = { job: digest, idPrefix, pool: h.db.pool };
  await assert.rejects(
    backfill(h.client, { ...ref, from: new Date('2026-08-01T10:00:00Z'), to: new Date('2026-08-01T10:05:00Z') }),
    /backfill range starts before what retention keeps: sends created before .* were pruned, so ticks before .* would send them again; use --from .* or later/,
  );
  const allowed = new Date(horizon!.getTime() + 26 * 3_600_000 + 60_000);
  await backfill(h.client, { ...ref, from: allowed, to: allowed });

  // The built-in prune job: the same through the pruneWorkflow and its activity.
  await h.db.pool.query(`UPDATE sendonce.email_sends SET created_at = now() - interval '100 days' WHERE window_key = '2026-11-29'`);
  const handle = await h.client.workflow.start('pruneWorkflow', { taskQueue: h.taskQueue, workflowId: uniqueName('prune'), args: [{ olderThanMs: 90 * DAY }] });
  const viaWorkflow = (await handle.result()) as { emailSends: number };
  assert.equal(viaWorkflow.emailSends, 6, 'the recent run’s finished keys, now old');
});

test('sendonce prune: one line for a retention that is too short; the counts otherwise', async (t) => {
  const h = await harnessFor(t, [testJob()]);
  const env = { DATABASE_URL: h.db.url };
  const short = await runSendonce(['prune', '--older-than', '1h'], env);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /^sendonce: invalid.*|^sendonce: retention of 1 h is too short/);
  const bad = await runSendonce(['prune', '--older-than', 'soon'], env);
  assert.equal(bad.code, 1);
  const ok = await runSendonce(['prune', '--older-than', '90d'], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^pruned before \S+: 0 sends, 0 dead letters, 0 one-off emails, 0 runs; backfills of earlier ticks are now refused\n$/);
});
