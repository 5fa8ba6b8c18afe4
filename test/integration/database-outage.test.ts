/**
 * An outage is not a recipient failure: Postgres crashes mid-run (pg_ctl -m immediate) and comes back 8 s later.
 * The run stops sending (`stopped`, reason database_unavailable) instead of retrying every recipient into a dead
 * letter; nobody is dead-lettered, and the next run of the window sends the rest — each person at most once,
 * everyone not left `unknown` exactly once. Its own restartable Postgres (the shared one stays up), real Redis,
 * Temporal and SMTP sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createPool, type Pool } from '../../src/db/pool';
import { createDatabase, uniqueName } from '../../devkit/databases';
import { userEmails } from '../../devkit/seed';
import { freePort } from '../../devkit/services/ports';
import { startRestartablePostgres } from '../../devkit/services/postgres';
import { testTmpDir } from '../../devkit/shared-services';
import { eventually } from '../support/eventually';
import { startHarness, testJob, type Harness } from '../support/harness';
import { runBatch, startBatch } from '../support/never-twice';

const RECIPIENTS = 60;

test('Postgres down mid-run: the run stops, nobody is dead-lettered, the next run sends the rest once', async () => {
  const dataDir = path.join(testTmpDir(), uniqueName('outage-pg'));
  const postgres = await startRestartablePostgres(dataDir, await freePort());
  let pool: Pool | undefined;
  let h: Harness | undefined;
  try {
    const url = await createDatabase(postgres.adminUrl, uniqueName('outage').toLowerCase());
    pool = createPool(url);
    const db = { url, pool, drop: async () => undefined };
    const job = testJob({ chunkSize: 5, maxInFlight: 10 });
    h = await startHarness({ jobs: [job], db });
    await h.startWorker();
    const addresses = userEmails(RECIPIENTS, 'outage.test');
    await h.seedUsers(addresses);
    h.sink.onData(() => ({ delayMs: 100 })); // a slow relay: the run is mid-way when Postgres goes

    const handle = await startBatch(h, job);
    await eventually(async () => h!.sink.count >= 15, 'the run to be sending', 60_000);
    await postgres.stopImmediate();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await postgres.start();
    const stopped = await handle.result();
    assert.deepEqual([stopped.outcome, stopped.reason], ['stopped', 'database_unavailable']);
    assert.equal(stopped.counts.dead, 0, 'nobody dead-lettered by the outage');
    assert.ok(h.sink.count < RECIPIENTS, `the run stopped sending (${h.sink.count} sent)`);

    const rest = await runBatch(h, job);
    assert.equal(rest.outcome, 'completed');
    assert.equal((await pool.query('SELECT 1 FROM dead_letters')).rowCount, 0, 'no dead letter');
    const { rows } = await pool.query<{ state: string; email: string }>(
      'SELECT e.state, u.email FROM email_sends e JOIN users u ON u.id::text = e.recipient_id',
    );
    assert.equal(rows.length, RECIPIENTS, 'every recipient has a finished key');
    for (const { state, email } of rows) {
      const got: number = h.sink.messagesTo(email).length;
      // A send whose mark the crash cut is `unknown`: its message may be out (at most one); everyone else got one.
      if (state === 'unknown') assert.ok(got <= 1, `${email} (unknown) got ${got}`);
      else assert.deepEqual([state, got], ['sent', 1], email);
    }
  } finally {
    await h?.close();
    await pool?.end();
    await postgres.stop();
  }
});
