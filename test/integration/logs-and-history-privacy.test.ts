/**
 * Issue 8, logs and payload privacy, with the real worker process configured through the environment:
 * - stdout is JSON lines: one line at run start and end (runId, jobName, counts, duration) and one per
 *   failure; never the SMTP password (given as SMTP_PASSWORD_FILE to a sink that demands AUTH), never a
 *   recipient address (not even the one an SMTP server echoes in its 550), never the email's subject or body;
 * - the workflow history holds ids and counts, never a recipient address;
 * - with PAYLOAD_ENCRYPTION_KEY every payload in history is ciphertext, and a client with the key reads it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { dataConverterFor } from '../../src/codec';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun, type BatchRunHandle } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { testTmpDir } from '../../devkit/shared-services';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { temporalClient, workerEnv } from '../support/production';

const SMTP_SECRET = `smtp-pw-${crypto.randomBytes(6).toString('hex')}`;
const DOMAIN = 'privacy.example';
const addresses = userEmails(20, DOMAIN);
const rejected = addresses[4]!;
let db: TestDatabase;
let sink: SmtpSink;
let client: Client;
let worker: WorkerProcess;
let handle: BatchRunHandle;
const taskQueue = uniqueName('tq-privacy');
/** The history holds the workflow id in plain text: ids without the job's name, so the history is searched for it. */
const anonymousWorkflowId = () => uniqueName('run');

/**
 * History as text with every payload's bytes decoded (they come as bytes or base64), so a plaintext address
 * anywhere in it — inputs, results, failure details — would be found.
 */
/**
 * Search attributes are never encrypted (the server filters on them): the run sets job, window, outcome, reason and
 * counts (src/workflows/search-attributes.ts; TemporalChangeVersion is patched()'s). historyText() lists only their names, so the payload checks below
 * still see every payload; this is what the attributes may be.
 */
const ALLOWED_SEARCH_ATTRIBUTES = new Set([...SEARCH_ATTRIBUTES.map((k) => k.name), 'TemporalScheduledStartTime', 'TemporalScheduledById', 'TemporalChangeVersion', 'BuildIds']);

async function historyText(h: WorkflowHandle): Promise<string> {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v as Uint8Array));
  const decode = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(decode);
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return node;
    // patched()'s marker: the SDK writes the patch id in plaintext (core's own payload, not ours).
    if ((node as { markerName?: string }).markerName === 'core_patch') return { markerName: 'core_patch' };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'indexedFields' && v && typeof v === 'object') {
        const names = Object.keys(v);
        assert.deepEqual(names.filter((name) => !ALLOWED_SEARCH_ATTRIBUTES.has(name)), [], 'only the run\'s own search attributes');
        out[k] = names;
      } else if (k === 'payloads' && Array.isArray(v)) {
        out[k] = v.map((p: { metadata?: Record<string, unknown>; data?: unknown }) => ({
          metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([mk, mv]) => [mk, bytes(mv).toString('latin1')])),
          data: p.data === undefined ? '' : bytes(p.data).toString('latin1'),
        }));
      } else out[k] = decode(v);
    }
    return out;
  };
  return JSON.stringify(decode(JSON.parse(JSON.stringify(await h.fetchHistory()))));
}

before(async () => {
  db = await createTestDatabase('privacy');
  sink = await startSmtpSink();
  sink.requireAuth({ user: 'mailer', pass: SMTP_SECRET });
  sink.rejectRcpt((address) => (address === rejected ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected` } : undefined));
  await seedUsers(db.pool, addresses);
  const passwordFile = path.join(testTmpDir(), uniqueName('smtp-password'));
  fs.writeFileSync(passwordFile, `${SMTP_SECRET}\n`, { mode: 0o600 });
  const env = await workerEnv({
    databaseUrl: db.url,
    smtpPort: sink.port,
    taskQueue,
    lockKeyPrefix: `${uniqueName('privacy')}:`,
    extra: { SMTP_USER: 'mailer', SMTP_PASSWORD_FILE: passwordFile },
  });
  worker = await startWorkerProcess(env);
  client = await temporalClient();
  handle = await startBatchRun(client, { taskQueue, jobName: 'daily-digest', workflowId: anonymousWorkflowId(), workflowExecutionTimeout: '5m' });
});

after(async () => {
  await worker?.stop();
  await client?.connection.close();
  await sink?.close();
  await db?.drop();
});

test('stdout: run start and end lines with runId, jobName, counts and duration; one line per failure', async () => {
  const summary = await handle.result();
  assert.equal(summary.counts.sent, addresses.length - 1);
  assert.equal(summary.counts.dead, 1);
  const started = await worker.waitForLog('job_run_started', (l) => l.runId === summary.runId);
  assert.equal(started.jobName, 'daily-digest');
  assert.equal(started.level, 'info');
  const finished = await worker.waitForLog('job_run_finished', (l) => l.runId === summary.runId);
  assert.equal(finished.jobName, 'daily-digest');
  assert.equal(finished.outcome, 'completed');
  assert.equal(finished.processed, addresses.length);
  assert.equal(finished.sent, addresses.length - 1);
  assert.equal(finished.dead, 1);
  assert.equal(finished.unknown, 0);
  assert.equal(typeof finished.durationMs, 'number');
  const failure = await worker.waitForLog('send_dead_lettered', (l) => l.runId === summary.runId);
  assert.equal(failure.jobName, 'daily-digest');
  assert.equal(failure.errorType, 'SmtpPermanentError');
  assert.match(String(failure.recipientId), /^\d+$/, 'the failure names the recipient by id');
  const attemptFailed = worker.lines.filter((l) => l.msg === 'send_attempt_failed' && l.runId === summary.runId);
  assert.equal(attemptFailed.length, 1, 'one line for the one failed attempt');
  // Every stdout line is JSON (the helper keeps only parsed lines; compare with the raw output).
  const rawLines = worker.output().split('\n').filter((l) => l.startsWith('{'));
  assert.equal(rawLines.length, worker.lines.length);
});

test('stdout and stderr never contain the SMTP password, a recipient address, the subject or the body', async () => {
  await handle.result();
  const output = worker.output();
  assert.ok(output.length > 0);
  assert.ok(!output.includes(SMTP_SECRET), 'SMTP password printed');
  assert.ok(!output.includes(`@${DOMAIN}`), `a recipient address was printed: ${output.match(new RegExp(`\\S*@${DOMAIN}\\S*`))?.[0]}`);
  assert.doesNotMatch(output, /Hi User \d+/, 'email body printed');
  assert.doesNotMatch(output, /Your daily digest/, 'email subject printed');
  assert.match(output, /"SMTP_PASSWORD":"(\*\*\*|\[redacted\])"/, 'the start-up config line shows the password masked');
  assert.match(output, /"DATABASE_URL":"postgres:\/\/[^"]*127\.0\.0\.1:\d+\//, 'the database host stays readable');
});

test('workflow history holds ids and counts, never a recipient address (not even in failure messages)', async () => {
  const summary = await handle.result();
  const text = await historyText(handle);
  assert.match(text, /recipientId\\?":\\?"\d+/, 'sanity: payloads are readable in this history');
  assert.match(text, /SmtpPermanentError/, 'sanity: the rejected send\'s failure is in the history');
  assert.ok(!text.includes(`@${DOMAIN}`), 'a recipient address is stored in Temporal history');
  assert.ok(!text.includes(rejected));
  assert.doesNotMatch(JSON.stringify(summary), new RegExp(DOMAIN));
});

test('PAYLOAD_ENCRYPTION_KEY: history payloads are ciphertext; a client with the key reads the result', async () => {
  const key = crypto.randomBytes(32).toString('base64');
  const tq = uniqueName('tq-encrypted');
  const env = await workerEnv({
    databaseUrl: db.url,
    smtpPort: sink.port,
    taskQueue: tq,
    lockKeyPrefix: `${uniqueName('enc')}:`,
    extra: { SMTP_USER: 'mailer', SMTP_PASSWORD: SMTP_SECRET, PAYLOAD_ENCRYPTION_KEY: key },
  });
  const encryptedWorker = await startWorkerProcess(env);
  const keyed = await temporalClient(dataConverterFor(key));
  try {
    assert.equal((await encryptedWorker.waitForLog('worker_started')).encryptedPayloads, true);
    const scheduledAt = '2026-01-02T03:04:05.000Z';
    const h = await startBatchRun(keyed, { taskQueue: tq, jobName: 'daily-digest', scheduledAt, workflowId: anonymousWorkflowId(), workflowExecutionTimeout: '5m' });
    const summary = await h.result();
    assert.equal(summary.window, '2026-01-02');
    assert.equal(summary.counts.sent, addresses.length - 1);
    const payloads = await historyText(h);
    assert.doesNotMatch(payloads, /recipientId|jobName|daily-digest|json\/plain/, 'no plaintext payload in history (search attributes: names only)');
    assert.match(payloads, /"indexedFields":\[[^\]]*"SendonceOutcome"/, 'sanity: the run\'s search attributes are in the history');
    assert.match(payloads, /binary\/encrypted/);
    assert.ok(!payloads.includes(`@${DOMAIN}`));
    assert.ok(!encryptedWorker.output().includes(key), 'the key is never printed');
  } finally {
    await encryptedWorker.stop();
    await keyed.connection.close();
  }
});
