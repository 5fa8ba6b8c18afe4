/**
 * DESIGN.md "SMTP outcomes", end to end: a real pooled transport from createSmtpPool against the real
 * fault-injecting sink, each outcome read through classifySendError / classifySendInfo.
 * Every test starts its own sink (free port) and transport and closes both.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSmtpPool, type SmtpPool } from '../../src/delivery/smtp/connection-pool';
import { classifySendError, classifySendInfo } from '../../src/delivery/smtp/classify';
import type { DeliveryFailure } from '../../src/delivery';
import { messageIdFor } from '../../src/delivery/message-id';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';

const TO = 'ada@example.test';
const CC = 'grace@example.test';
const SOCKET_TIMEOUT_MS = 1500;

async function setup(t: TestContext, auth?: { user: string; password: string }): Promise<{ sink: SmtpSink; transport: SmtpPool }> {
  const sink = await startSmtpSink();
  const transport = createSmtpPool({
    host: sink.host,
    port: sink.port,
    secure: false,
    maxConnections: 2,
    socketTimeoutMs: SOCKET_TIMEOUT_MS,
    ...auth,
  });
  t.after(async () => {
    transport.close();
    await sink.close();
  });
  return { sink, transport };
}

function mail(key: string, extra: { cc?: string } = {}) {
  return { from: 'jobs@sendonce.test', to: TO, subject: 'Digest', text: 'hello', messageId: messageIdFor(key, 'sendonce.test'), ...extra };
}

/** Send and classify the rejection; fails the test if the send resolves. */
async function failureOf(transport: SmtpPool, message: ReturnType<typeof mail>): Promise<DeliveryFailure> {
  try {
    await transport.sendMail(message);
  } catch (err) {
    return classifySendError(err);
  }
  assert.fail('expected the send to be rejected');
}

test('accepted: the sink stores it with Message-ID = messageIdFor(key), envelope and body', async (t) => {
  const { sink, transport } = await setup(t);
  const info = await transport.sendMail(mail('email:digest:1:2024-05-01'));
  assert.deepEqual(classifySendInfo(info, TO), { kind: 'accepted', response: info.response, partialRejections: 0 });
  const [stored] = sink.messagesTo(TO);
  assert.ok(stored);
  assert.equal(stored.messageId, messageIdFor('email:digest:1:2024-05-01', 'sendonce.test'));
  assert.match(stored.rawHeaders, /^Message-ID: <[0-9a-f]{32}@sendonce\.test>$/im);
  assert.deepEqual(stored.envelopeRcpt, [TO]);
  assert.deepEqual(stored.to, [TO]);
  assert.equal(stored.subject, 'Digest');
  assert.equal(stored.text?.trim(), 'hello');
  assert.ok(stored.size > 0);
});

test('550 on the only RCPT → permanent (EENVELOPE 550), nothing stored, address scrubbed', async (t) => {
  const { sink, transport } = await setup(t);
  sink.rejectRcpt((a) => (a === TO ? { code: 550, message: `5.1.1 <${TO}> unknown user` } : undefined));
  const failure = await failureOf(transport, mail('k550'));
  assert.equal(failure.kind, 'permanent');
  assert.equal(failure.code, 550);
  assert.equal(failure.errorCode, 'EENVELOPE');
  assert.ok(!JSON.stringify(failure).includes(TO), JSON.stringify(failure));
  assert.equal(sink.count, 0);
});

test('554 on DATA → permanent (EMESSAGE 554)', async (t) => {
  const { sink, transport } = await setup(t);
  sink.onData(() => ({ code: 554, message: '5.6.0 content rejected' }));
  const failure = await failureOf(transport, mail('k554'));
  assert.deepEqual([failure.kind, failure.code, failure.errorCode], ['permanent', 554, 'EMESSAGE']);
});

test('550 on the cc of two RCPTs → resolves, info.rejected has the cc → accepted with partialRejections 1', async (t) => {
  const { sink, transport } = await setup(t);
  sink.rejectRcpt((a) => (a === CC ? { code: 550, message: '5.1.1 unknown user' } : undefined));
  const info = await transport.sendMail(mail('kcc', { cc: CC }));
  assert.deepEqual(info.rejected, [CC]);
  assert.equal(info.rejectedErrors?.[0]?.responseCode, 550);
  assert.deepEqual(classifySendInfo(info, TO), { kind: 'accepted', response: info.response, partialRejections: 1 });
  assert.deepEqual(sink.messages()[0]?.envelopeRcpt, [TO]);
});

test('550 on the primary while the cc is accepted → resolves, classified permanent 550', async (t) => {
  const { sink, transport } = await setup(t);
  sink.rejectRcpt((a) => (a === TO ? { code: 550, message: '5.1.1 unknown user' } : undefined));
  const info = await transport.sendMail(mail('kprimary', { cc: CC }));
  const outcome = classifySendInfo(info, TO);
  assert.equal(outcome.kind, 'permanent');
  assert.equal('code' in outcome ? outcome.code : undefined, 550);
});

test('421 on RCPT → transient (ECONNECTION 421: the server closes)', async (t) => {
  const { sink, transport } = await setup(t);
  sink.rejectRcpt(() => ({ code: 421, message: '4.7.0 too busy' }));
  const failure = await failureOf(transport, mail('k421'));
  assert.deepEqual([failure.kind, failure.code, failure.errorCode], ['transient', 421, 'ECONNECTION']);
});

test('451 on RCPT → transient; the retry (failTimes 1) is sent once', async (t) => {
  const { sink, transport } = await setup(t);
  sink.failTimes(TO, 1, 451);
  const failure = await failureOf(transport, mail('k451'));
  assert.deepEqual([failure.kind, failure.code, failure.errorCode], ['transient', 451, 'EENVELOPE']);
  const info = await transport.sendMail(mail('k451'));
  assert.equal(classifySendInfo(info, TO).kind, 'accepted');
  assert.equal(sink.rcptAttempts(TO), 2);
  assert.equal(sink.countByMessageId().get(messageIdFor('k451', 'sendonce.test')), 1);
});

test('store-then-drop → ambiguous, and the sink stored exactly one copy (no requeue)', async (t) => {
  const { sink, transport } = await setup(t);
  sink.onData(() => 'store-then-drop');
  const failure = await failureOf(transport, mail('kdrop'));
  assert.deepEqual([failure.kind, failure.errorCode, failure.code], ['ambiguous', 'ECONNECTION', undefined]);
  // Give a (wrongly configured) pool time to re-send before counting: its first requeue waits 50+50 ms.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual([...sink.countByMessageId()], [[messageIdFor('kdrop', 'sendonce.test'), 1]]);
});

test('hang after DATA → ambiguous (ETIMEDOUT) after the socket timeout', async (t) => {
  const { sink, transport } = await setup(t);
  sink.onData(() => 'hang');
  const started = Date.now();
  const failure = await failureOf(transport, mail('khang'));
  const elapsed = Date.now() - started;
  assert.deepEqual([failure.kind, failure.errorCode], ['ambiguous', 'ETIMEDOUT']);
  assert.ok(elapsed >= SOCKET_TIMEOUT_MS - 100 && elapsed < SOCKET_TIMEOUT_MS + 3000, `elapsed ${elapsed} ms`);
});

test('wrong credentials → auth (EAUTH 535)', async (t) => {
  const { sink, transport } = await setup(t, { user: 'jobs', password: 'wrong' });
  sink.requireAuth({ user: 'jobs', pass: 'right' });
  const failure = await failureOf(transport, mail('kauth'));
  assert.deepEqual([failure.kind, failure.code, failure.errorCode], ['auth', 535, 'EAUTH']);
});

test('right credentials → accepted', async (t) => {
  const { sink, transport } = await setup(t, { user: 'jobs', password: 'right' });
  sink.requireAuth({ user: 'jobs', pass: 'right' });
  const info = await transport.sendMail(mail('kauth-ok'));
  assert.equal(classifySendInfo(info, TO).kind, 'accepted');
});

test('server stopped (connection refused) → transient; back up on the same port → accepted', async (t) => {
  const { sink, transport } = await setup(t);
  await sink.stop();
  const failure = await failureOf(transport, mail('kdown'));
  assert.deepEqual([failure.kind, failure.errorCode], ['transient', 'ESOCKET']);
  await sink.start();
  const info = await transport.sendMail(mail('kdown'));
  assert.equal(classifySendInfo(info, TO).kind, 'accepted');
  assert.equal(sink.count, 1);
});

test('connection closed before the greeting → transient at once: maxRequeues 0, no hidden pool retry', async (t) => {
  const { sink, transport } = await setup(t);
  // With nodemailer's default maxRequeues (5) the pool would silently reconnect and deliver this message.
  sink.dropConnections(1);
  const failure = await failureOf(transport, mail('kgreet'));
  assert.deepEqual([failure.kind, failure.errorCode], ['transient', 'ECONNECTION']);
  assert.equal(sink.count, 0);
});

test('no recipient → invalid_recipient, refused before talking to the server', async (t) => {
  const { sink, transport } = await setup(t);
  const failure = await failureOf(transport, { ...mail('knone'), to: 'not an address' });
  assert.deepEqual([failure.kind, failure.errorCode], ['invalid_recipient', 'EENVELOPE']);
  assert.equal(sink.count, 0);
});

test('sink counting mode counts accepted messages without recording them', async (t) => {
  const sink = await startSmtpSink({ counting: true });
  const transport = createSmtpPool({ host: sink.host, port: sink.port, secure: false, maxConnections: 2, socketTimeoutMs: SOCKET_TIMEOUT_MS });
  t.after(async () => {
    transport.close();
    await sink.close();
  });
  await Promise.all([1, 2, 3].map((i) => transport.sendMail(mail(`kcount${i}`))));
  assert.equal(sink.count, 3);
  assert.deepEqual(sink.messages(), []);
});
