/**
 * An outage is not a recipient failure: Postgres crashes mid-run (pg_ctl -m immediate) and comes back 60 s later.
 * The run stops sending (`stopped`, reason database_unavailable) instead of retrying every recipient into a dead
 * letter, and records that ending once Postgres is back; nobody is dead-lettered, nobody who was never offered to
 * the mail server has an attempt, and the window keeper's follow-up run (no tick, no person) sends the rest — each
 * person at most once, everyone not left `unknown` exactly once. Its own restartable Postgres (the shared one
 * stays up), real Redis, Temporal and SMTP sink.
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
import { startBatch } from '../support/never-twice';
import { noMetrics } from '../../src/metrics';
import { getWindow, keepWindows } from '../../src/windows';

const RECIPIENTS = 60;

test('Postgres down 60 s mid-run: the run stops, nobody is dead-lettered, a follow-up run sends the rest once', async (t) => {
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
    // Follow-ups due at once (WINDOW_FOLLOW_UP_DELAY_MS=0): the run's ending writes when its follow-up is due.
    h.deps.followUps = { firstDelayMs: 0, maxDelayMs: 0, maxFollowUps: 3 };
    await h.startWorker();
    const addresses = userEmails(RECIPIENTS, 'outage.test');
    await h.seedUsers(addresses);
    h.sink.onData(() => ({ delayMs: 100 })); // a slow relay: the run is mid-way when Postgres goes

    // Today's window: its deadline (midnight UTC) is ahead, so the keeper follows it up rather than expiring it.
    const handle = await startBatch(h, job, { scheduledAt: new Date().toISOString() });
    await eventually(async () => h!.sink.count >= 15, 'the run to be sending', 60_000);
    await postgres.stopImmediate();
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    await postgres.start();
    const stopped = await handle.result();
    assert.deepEqual([stopped.outcome, stopped.reason], ['stopped', 'database_unavailable']);
    assert.equal(stopped.counts.dead, 0, 'nobody dead-lettered by the outage');
    assert.ok(h.sink.count < RECIPIENTS, `the run stopped sending (${h.sink.count} sent)`);
    // Known gap (issue 29's closing note): a claim taken just before the outage whose message could not be built
    // stays `claimed`, and a later claim records it `unknown` (it cannot tell it was never offered) — not resent,
    // not dead-lettered. Counted here so the figure is seen.
    const offered = new Set(h.sink.messages().flatMap((m) => m.envelopeRcpt));
    const { rows: open } = await pool.query<{ email: string }>(
      `SELECT u.email FROM sendonce.email_sends e JOIN users u ON u.id::text = e.recipient_id WHERE e.state = 'claimed'`,
    );
    t.diagnostic(`claims left open by the outage: ${open.length}, of them never offered to the mail server: ${open.filter((r) => !offered.has(r.email)).length}`);

    // The workers' keeper round, as each worker runs it every WINDOW_KEEPER_INTERVAL_MS: the follow-up is due, and
    // it starts one run of the same window.
    const keeper = { ...h.deps, metrics: noMetrics, client: h.client, taskQueue: h.taskQueue, policy: h.deps.followUps };
    const row = await getWindow(pool, job.name, stopped.window);
    assert.deepEqual([row?.state, row?.reason], ['incomplete', 'stopped: database_unavailable']);
    const round = await keepWindows(keeper);
    assert.equal(round.followUps.length, 1, JSON.stringify(round));
    const rest = await h.client.workflow.getHandle(round.followUps[0]!.workflowId).result();
    assert.equal(rest.outcome, 'completed');
    assert.equal((await getWindow(pool, job.name, stopped.window))?.state, 'complete');
    assert.equal((await pool.query('SELECT 1 FROM sendonce.dead_letters')).rowCount, 0, 'no dead letter');
    const { rows } = await pool.query<{ state: string; email: string }>(
      'SELECT e.state, u.email FROM sendonce.email_sends e JOIN users u ON u.id::text = e.recipient_id',
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
