/**
 * The invariant check reads the sink on both sides of the database (SinkReads in scripts/chaos/invariants.ts).
 * Issue 28: the soak read the sink once, before the rows, so a send still in flight during a check — accepted
 * by the sink and recorded `sent` in between — looked like a key recorded sent with no message at the server.
 * Here that interleaving is forced with real services: a real SMTP send and the product's markSent run exactly
 * between the check's first sink read and its first database read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { startSmtpSink, type SinkMessage } from '../../devkit/smtp-sink';
import { createTestDatabase } from '../../devkit/test-database';
import { checkInvariants, judgeInvariants, type JobRecords } from '../../scripts/chaos/invariants';
import { claim, markSent, type ClaimRequest } from '../../src/sends';
import { createSmtpPool } from '../../src/delivery/smtp/connection-pool';

const job = { name: 'check-reads', maximumAttempts: 3, resendOnce: false };
const KEY = 'email:check-reads:7:2026-12-07';
const MESSAGE_ID = '<straggler@sendonce.test>';

const request: ClaimRequest = {
  key: KEY, jobName: job.name, template: 'check-reads', recipientId: '7', window: '2026-12-07', fence: 1,
  runId: 'run-1', messageId: MESSAGE_ID, leaseMs: 60_000, maximumAttempts: 3, resendUnknownOnce: false,
};

test('a send accepted and recorded sent while the check runs is neither lost nor rowless', async (t) => {
  const db = await createTestDatabase('check_reads');
  t.after(() => db.drop());
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const transport = createSmtpPool({ host: sink.host, port: sink.port, secure: false, maxConnections: 1, socketTimeoutMs: 5_000 });
  t.after(() => transport.close());

  const claimed = await claim(db.pool, request);
  assert.equal(claimed.kind, 'claimed');
  // The straggler: a worker that woke up after the check had read the sink, delivering and marking its claimed key
  // before the check reads the rows.
  let straggled = false;
  const straggle = async () => {
    straggled = true;
    await transport.sendMail({
      from: 'sender@sendonce.test', to: 'user7@example.com', subject: 'digest', text: 'hello',
      messageId: MESSAGE_ID, headers: { 'X-Sendonce-Key': KEY },
    });
    assert.equal(await markSent(db.pool, KEY, 1), true);
  };
  const racingPool = {
    query: async (...args: Parameters<Pool['query']>) => {
      if (!straggled) await straggle();
      return (db.pool.query as (...a: unknown[]) => unknown)(...args);
    },
  } as unknown as Pool;

  const result = await checkInvariants(racingPool, job, [KEY], () => sink.messages());
  assert.equal(straggled, true, 'the send ran between the two sink reads');
  assert.equal(sink.messages().length, 1);
  assert.deepEqual(result.violations, [], 'the row says sent and the sink has the message: nothing is wrong');
  assert.deepEqual(result.crossings, [KEY], 'counted as a send in flight across the check');
  assert.equal(result.figures.delivered, 1);
});

const message = (key: string): SinkMessage => ({
  messageId: MESSAGE_ID, to: [], cc: [], subject: '', text: '', html: '', headers: {}, mailFrom: 'f@x', envelopeRcpt: ['a@example.com'],
  rawHeaders: `To: a@example.com\r\nX-Sendonce-Key: ${key}`, size: 1, receivedAt: new Date(), connection: 'c1',
});
const noRows: JobRecords = { rows: [], letters: new Set(), claims: undefined };

test('a message with no row counts only when the sink had it before the rows were read', () => {
  // A window still in progress (nothing settled): only the rowless-message rule can speak.
  const inProgress = { settled: new Set<string>() };
  const arrivedAfterTheRows = judgeInvariants(job, [KEY], noRows, { before: [], after: [message(KEY)] }, inProgress);
  assert.deepEqual(arrivedAfterTheRows.violations, [], 'claimed and sent after the rows were read: its row was not there yet');
  const sentInProgress: JobRecords = { ...noRows, rows: [{ key: KEY, state: 'sent', attempts: 1, resends: 0, message_id: MESSAGE_ID, reason: null }] };
  const notSettled = judgeInvariants(job, [KEY], sentInProgress, { before: [], after: [message(KEY)] }, inProgress);
  assert.deepEqual(notSettled.crossings, [], 'a window in progress: the single read never called it lost, so it is no crossing');
  const arrivedBefore = judgeInvariants(job, [KEY], noRows, { before: [message(KEY)], after: [message(KEY)] }, inProgress);
  assert.deepEqual(arrivedBefore.violations, [`message for a key with no email_sends row: ${KEY}`]);
});

test('a row recorded sent with no message in the later read is still a loss', () => {
  const sent: JobRecords = { ...noRows, rows: [{ key: KEY, state: 'sent', attempts: 1, resends: 0, message_id: MESSAGE_ID, reason: null }] };
  const r = judgeInvariants(job, [KEY], sent, { before: [], after: [] });
  assert.deepEqual(r.violations, [`${KEY} is recorded sent but the sink has no message for it`]);
});
