/**
 * Issue 15 end to end: the real worker process, configured only through its environment (UNSUBSCRIBE_URL,
 * UNSUBSCRIBE_SECRET_FILE, UNSUBSCRIBE_PORT), serves POST /unsubscribe; a link from a real run unsubscribes; the
 * next window skips the recipient (summary and Prometheus counter); `sendonce suppressions list|add|remove` (the
 * real binary) shows, adds and lifts suppressions, and every mistake is one `sendonce: …` line with exit 1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { SuppressionRow } from '../../src/api';
import type { RunSummary } from '../../src/contract';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { freePort } from '../../devkit/services/ports';
import { testTmpDir } from '../../devkit/shared-services';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { runSendonce } from '../support/cli';
import { scrape, temporalClient, workerEnv } from '../support/production';

const SECRET = 'e2e-unsubscribe-secret-0123456789-abcdefgh';
const JOB = 'cli-digest';
let db: TestDatabase;
let sink: SmtpSink;
let worker: WorkerProcess;
let client: Client;
let env: Record<string, string>;
let metricsPort: string;
const taskQueue = uniqueName('tq-suppressions');

before(async () => {
  db = await createTestDatabase('suppressions');
  sink = await startSmtpSink();
  const secretFile = path.join(testTmpDir(), `${uniqueName('unsubscribe-secret')}`);
  fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const port = await freePort();
  const jobsModule = path.resolve(__dirname, '../fixtures/cli-jobs.ts');
  const workerEnvironment = await workerEnv({
    databaseUrl: db.url, smtpPort: sink.port, taskQueue, lockKeyPrefix: `${uniqueName('supp')}:`,
    extra: { SENDONCE_JOBS_MODULE: jobsModule, UNSUBSCRIBE_URL: `http://127.0.0.1:${port}/unsubscribe`, UNSUBSCRIBE_SECRET_FILE: secretFile, UNSUBSCRIBE_PORT: String(port) },
  });
  metricsPort = workerEnvironment.METRICS_PORT;
  worker = await startWorkerProcess(workerEnvironment);
  client = await temporalClient();
  env = { DATABASE_URL: db.url, SENDONCE_JOBS_MODULE: jobsModule };
});
after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await sink?.close();
  await db?.drop();
});

const run = async (scheduledAt: string): Promise<RunSummary> => (await startBatchRun(client, { taskQueue, jobName: JOB, scheduledAt })).result();
const sendonce = async (...args: string[]) => {
  const r = await runSendonce(args, env);
  assert.equal(r.code, 0, `sendonce ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const list = async (...args: string[]) => JSON.parse(await sendonce('suppressions', 'list', '--json', ...args)) as SuppressionRow[];

test('the worker serves one-click unsubscribe; the next window skips the recipient; the CLI lists it and can lift it', async () => {
  const addresses = userEmails(2, 'e2e-unsub.test');
  const users = await seedUsers(db.pool, addresses);
  assert.equal((await run('2026-11-20T10:00:00Z')).counts.sent, 2);
  const link = /^<(http[^>]+)>/.exec(sink.messagesTo(addresses[0]!)[0]?.headers['list-unsubscribe'] ?? '')?.[1];
  assert.ok(link, 'the worker put a List-Unsubscribe link on the message');
  const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  assert.equal(res.status, 200, await res.text());
  assert.equal((await fetch(link.replace(/\.[^.]+$/, '.AAAA'), { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status, 400, 'an altered token');

  const rows = await list('--job', JOB);
  assert.deepEqual(rows.map((r) => [r.scope, r.recipientId, r.reason, r.address]), [['job', users[0]!.id, 'unsubscribe', null]]);
  assert.match(await sendonce('suppressions', 'list'), new RegExp(`\\b${rows[0]!.id}\\b.*job.*unsubscribe`));

  const day2 = await run('2026-11-21T10:00:00Z');
  assert.deepEqual([day2.counts.sent, day2.counts.suppressed], [1, 1]);
  assert.equal((await scrape(metricsPort)).total('sendonce_emails_suppressed', { job: JOB }), 1, 'the page step counted it');
  assert.equal(sink.messagesTo(addresses[0]!).length, 1);

  assert.match(await sendonce('suppressions', 'remove', String(rows[0]!.id)), new RegExp(`^removed: ${rows[0]!.id}\\n$`));
  const day3 = await run('2026-11-22T10:00:00Z');
  assert.deepEqual([day3.counts.sent, day3.counts.suppressed], [2, 0], 'mailed again once lifted');
  assert.ok(!worker.output().includes(SECRET), 'the secret is never printed');
});

test('suppressions add by address (every job) and by job recipient: idempotent, listed, and the send skips the address', async () => {
  const [address] = userEmails(1, 'e2e-add.test');
  await seedUsers(db.pool, [address!]);
  assert.equal(await sendonce('suppressions', 'add', '--address', address!.toUpperCase(), '--note', 'asked by phone'), 'suppressed\n');
  assert.equal(await sendonce('suppressions', 'add', '--address', address!), 'already suppressed: nothing changed\n', 'case does not matter');
  assert.equal(await sendonce('suppressions', 'add', '--job', JOB, '--recipient', '424242'), 'suppressed\n');
  const operator = await list('--reason', 'manual');
  assert.deepEqual(operator.map((r) => [r.scope, r.address, r.detail]), [['address', address, 'asked by phone'], ['job', null, null]]);
  const summary = await run('2026-11-23T10:00:00Z');
  assert.equal(summary.counts.suppressed, 1, JSON.stringify(summary.counts));
  assert.equal(sink.messagesTo(address!).length, 0);
});

test('bad input to suppressions ends with one line and exit 1', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['suppressions', 'remove', '999999'], /^sendonce: no suppression with id 999999 \(see `sendonce suppressions list`\); nothing was removed\n$/],
    [['suppressions', 'remove', 'abc'], /'abc' is not a suppression id/],
    [['suppressions', 'add', '--address', 'not an address'], /^sendonce: --address: address has no local part or no domain\n$/],
    [['suppressions', 'add'], /^sendonce: give --address, or --job with --recipient \(not both\)\n$/],
    [['suppressions', 'add', '--job', JOB], /^sendonce: --recipient is required with --job/],
    [['suppressions', 'add', '--job', 'nope', '--recipient', '1'], /^sendonce: unknown job 'nope'/],
    [['suppressions', 'list', '--reason', 'spam'], /argument 'spam' is invalid/],
  ];
  for (const [args, expected] of cases) {
    const r = await runSendonce(args, env);
    assert.equal(r.code, 1, `${args.join(' ')} should fail: ${r.stdout}`);
    assert.match(r.stderr, expected, args.join(' '));
  }
});
