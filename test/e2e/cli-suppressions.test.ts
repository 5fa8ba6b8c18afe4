/**
 * Issue 15 end to end: the real worker process, configured only through its environment (UNSUBSCRIBE_URL,
 * UNSUBSCRIBE_SECRET_FILE, UNSUBSCRIBE_PORT), serves POST /unsubscribe; a link from a real run unsubscribes; the
 * next window skips the recipient (summary and Prometheus counter); `sendonce suppressions list|add|remove` (the
 * real binary) shows, adds and lifts suppressions, and every mistake is one `sendonce: …` line with exit 1.
 * Issue 29 (8): lifting an unsubscribe takes --force --note, and who, when and why are kept.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { SuppressionRemovalRow, SuppressionRow } from '../../src/api';
import type { RunSummary } from '../../src/contract';
import { signUnsubscribeToken } from '../../src/suppressions';
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
let unsubscribeUrl: string;
const taskQueue = uniqueName('tq-suppressions');

before(async () => {
  db = await createTestDatabase('suppressions');
  sink = await startSmtpSink();
  const secretFile = path.join(testTmpDir(), `${uniqueName('unsubscribe-secret')}`);
  fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const port = await freePort();
  unsubscribeUrl = `http://127.0.0.1:${port}/unsubscribe`;
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
  assert.equal((await scrape(metricsPort)).total('sendonce_emails_suppressed', { sendonce_job: JOB }), 1, 'the page step counted it');
  assert.equal(sink.messagesTo(addresses[0]!).length, 1);

  assert.match(await sendonce('suppressions', 'remove', String(rows[0]!.id), '--force', '--note', 'resubscribed in the app'), new RegExp(`^removed: ${rows[0]!.id}\\n$`));
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

test('removing an unsubscribe is refused without --force --note; with them it is removed and who, when and why are kept', async () => {
  const token = signUnsubscribeToken({ current: SECRET }, { jobName: JOB, recipientId: '777', scope: 'job', expiresAt: Math.floor(Date.now() / 1000) + 3_600 });
  const res = await fetch(`${unsubscribeUrl}?t=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  assert.equal(res.status, 200, await res.text());
  await sendonce('suppressions', 'add', '--job', JOB, '--recipient', '778', '--note', 'test account');
  const listed = await list('--job', JOB);
  const unsub = listed.find((r) => r.recipientId === '777')!;
  const manual = listed.find((r) => r.recipientId === '778')!;
  assert.deepEqual([unsub?.reason, manual?.detail], ['unsubscribe', 'test account']);

  const refusal = new RegExp(`^sendonce: suppression ${unsub.id} is an unsubscribe \\(the person asked for no more mail\\); to mail them again anyway, add --force --note "<why>"; nothing was removed\\n$`);
  for (const [extra, expected] of [[[], refusal], [['--note', 'they asked'], refusal], [['--force'], /^sendonce: --force needs --note "<why>"/], [['--note', '   ', '--force'], /^sendonce: --force needs --note "<why>"/]] as const) {
    const r = await runSendonce(['suppressions', 'remove', String(manual.id), String(unsub.id), ...extra], env);
    assert.equal(r.code, 1, `remove ${extra.join(' ')} should be refused: ${r.stdout}`);
    assert.match(r.stderr, expected, extra.join(' '));
  }
  assert.deepEqual((await list('--job', JOB)).filter((r) => r.id === unsub.id || r.id === manual.id).length, 2, 'nothing was removed');

  assert.equal(await sendonce('suppressions', 'remove', String(manual.id), String(unsub.id), '--force', '--note', 'asked by phone to resume', '--by', 'alice'), `removed: ${unsub.id}, ${manual.id}\n`);
  const removals = JSON.parse(await sendonce('suppressions', 'list', '--removed', '--json')) as SuppressionRemovalRow[];
  const audit = removals.filter((r) => r.suppressionId === unsub.id || r.suppressionId === manual.id).sort((a, b) => a.suppressionId - b.suppressionId);
  assert.deepEqual(audit.map((r) => [r.suppressionId, r.reason, r.recipientId, r.removedBy, r.note]), [
    [unsub.id, 'unsubscribe', '777', 'alice', 'asked by phone to resume'],
    [manual.id, 'manual', '778', 'alice', 'asked by phone to resume'],
  ]);
  assert.match(audit[0]!.removedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(audit[0]!.createdAt, unsub.createdAt, 'the removed entry keeps when it was made');
  assert.match(await sendonce('suppressions', 'list', '--removed'), new RegExp(`\\b${unsub.id}\\b.*unsubscribe.*alice.*asked by phone to resume`));
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
    [['suppressions', 'remove', '1', '--force'], /^sendonce: --force needs --note "<why>"/],
  ];
  for (const [args, expected] of cases) {
    const r = await runSendonce(args, env);
    assert.equal(r.code, 1, `${args.join(' ')} should fail: ${r.stdout}`);
    assert.match(r.stderr, expected, args.join(' '));
  }
});
