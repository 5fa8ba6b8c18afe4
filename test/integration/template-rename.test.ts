/**
 * Same email, same keys: keys name the template, so a template renamed by a redeploy in the middle of a window would
 * make new keys for the same people and send the window again. The window keeps the template its first run used:
 * a run of it with another template is skipped (template_renamed) and sends nothing; the next window sends with the
 * new one. Windows that began before the record existed are recognised from their keys. Real Postgres, Redis,
 * Temporal, SMTP sink; two "deploys" are two workers with different job definitions on the same database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobDefinition } from '../../src/jobs';
import { templates } from '../../src/templates';
import { userEmails } from '../../devkit/seed';
import { startSmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase } from '../../devkit/test-database';
import { startHarness, testJob, type Harness } from '../support/harness';
import { runBatch } from '../support/never-twice';

const RENAMED = 'daily-digest-renamed';
const TODAY = '2026-11-20T10:00:00Z';
const TOMORROW = '2026-11-21T10:00:00Z';

test('a template renamed mid-window sends nothing more in that window, and the next window sends with it', async () => {
  const db = await createTestDatabase('rename');
  const sink = await startSmtpSink();
  const before = testJob();
  const after: JobDefinition = { ...before, template: RENAMED };
  const deploy = (job: JobDefinition) => startHarness({ jobs: [job], db, sink, templates: { [RENAMED]: templates['daily-digest']! } });
  let h: Harness | undefined;
  try {
    h = await deploy(before);
    await h.startWorker();
    await h.seedUsers(userEmails(5, 'rename.test'));
    assert.equal((await runBatch(h, before, { scheduledAt: TODAY })).counts.sent, 5);
    await h.close();
    h = undefined;

    h = await deploy(after);
    await h.startWorker();
    const again = await runBatch(h, after, { scheduledAt: TODAY });
    assert.deepEqual([again.outcome, again.reason, again.counts.sent], ['skipped', 'template_renamed', 0]);
    // A window that began before its template was recorded (the first run after an upgrade): read from its keys.
    await db.pool.query('DELETE FROM sendonce.job_windows');
    const older = await runBatch(h, after, { scheduledAt: TODAY });
    assert.deepEqual([older.outcome, older.reason], ['skipped', 'template_renamed']);
    assert.equal(sink.count, 5, 'nobody got the window twice');

    const next = await runBatch(h, after, { scheduledAt: TOMORROW });
    assert.deepEqual([next.outcome, next.counts.sent], ['completed', 5]);
    const { rows } = await db.pool.query<{ window_key: string; template: string }>('SELECT window_key, template FROM sendonce.job_windows ORDER BY window_key');
    assert.deepEqual(rows.map((r) => [r.window_key, r.template]), [['2026-11-20', 'daily-digest'], ['2026-11-21', RENAMED]]);
  } finally {
    await h?.close();
    await sink.close();
    await db.drop();
  }
});
