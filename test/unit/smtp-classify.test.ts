/**
 * classifySendError / classifySendInfo over synthetic errors shaped exactly like nodemailer 10.6's (field
 * values copied from what it produced against devkit/smtp-sink.ts; see test/integration/smtp-outcomes.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrubAddresses, type DeliveryFailureKind } from '../../src/delivery';
import { classifySendError, classifySendInfo, isHardBounce } from '../../src/delivery/smtp/classify';
import { messageIdFor } from '../../src/delivery/message-id';

function nmError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

const rows: Array<[string, unknown, DeliveryFailureKind, number | undefined]> = [
  ['550 on the only RCPT', nmError("Can't send mail - all recipients were rejected: 550 5.1.1 <a@x.test> unknown", { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 <a@x.test> unknown' }), 'permanent', 550],
  ['553 on MAIL FROM', nmError('Mail command failed: 553 no', { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', response: '553 no' }), 'permanent', 553],
  ['554 after DATA', nmError('Message failed: 554 5.6.0 no', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.6.0 no' }), 'permanent', 554],
  ['503 bad sequence is not a refusal', nmError('Data command failed: 503 bad sequence', { code: 'EENVELOPE', responseCode: 503, command: 'DATA', response: '503 bad sequence' }), 'transient', 503],
  ['421 on RCPT (pipelined: ECONNECTION)', nmError('Server closed the connection: 421 4.7.0 try later', { code: 'ECONNECTION', responseCode: 421, command: 'CONN', response: '421 4.7.0 try later' }), 'transient', 421],
  ['421 on RCPT (not pipelined: EENVELOPE)', nmError("Can't send mail - all recipients were rejected: 421 x", { code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO', response: '421 x' }), 'transient', 421],
  ['451 on RCPT', nmError("Can't send mail - all recipients were rejected: 451 4.3.0", { code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO', response: '451 4.3.0' }), 'transient', 451],
  ['452 after DATA', nmError('Message failed: 452 full', { code: 'EMESSAGE', responseCode: 452, command: 'DATA', response: '452 full' }), 'transient', 452],
  ['4xx reply then close (remainder)', nmError('Connection closed unexpectedly: 451 bye', { code: 'ECONNECTION', responseCode: 451, command: 'CONN', response: '451 bye' }), 'transient', 451],
  ['EAUTH 535', nmError('Invalid login: 535 5.7.8 bad', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 5.7.8 bad' }), 'auth', 535],
  ['ENOAUTH', nmError('Missing credentials for "PLAIN"', { code: 'EAUTH', command: 'API' }), 'auth', undefined],
  ['no recipients', nmError('No recipients defined', { code: 'EENVELOPE', command: 'API' }), 'invalid_recipient', undefined],
  ['bad recipient syntax caught client-side', nmError('Invalid recipient "a<b"', { code: 'EENVELOPE', command: 'API' }), 'invalid_recipient', undefined],
  ['connection refused', nmError('connect ECONNREFUSED 127.0.0.1:25', { code: 'ESOCKET', command: 'CONN', originalCode: 'ECONNREFUSED' }), 'transient', undefined],
  ['DNS failure', nmError('getaddrinfo ENOTFOUND smtp.example', { code: 'EDNS', command: 'CONN', originalCode: 'ENOTFOUND' }), 'transient', undefined],
  ['connect timeout', nmError('Connection timeout', { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'CONNECT_TIMEOUT' }), 'transient', undefined],
  ['greeting timeout', nmError('Greeting never received', { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'GREETING_TIMEOUT' }), 'transient', undefined],
  ['closed before the greeting, maxRequeues 0 (pool error, no command)', nmError('Reached maximum number of retries after connection was closed', { code: 'ECONNECTION' }), 'transient', undefined],
  ['send after pool close', nmError('Connection pool was closed', { code: 'ECONNECTION' }), 'transient', undefined],
  ['closed after DATA end, no reply', nmError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' }), 'ambiguous', undefined],
  ['socket timeout waiting for the reply', nmError('Timeout', { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'SOCKET_TIMEOUT' }), 'ambiguous', undefined],
  ['reset mid-session', nmError('read ECONNRESET', { code: 'ESOCKET', command: 'CONN', originalCode: 'ECONNRESET' }), 'ambiguous', undefined],
  ['garbled reply', nmError('Unexpected Response: 250 ok', { code: 'EPROTOCOL', command: 'CONN', responseCode: 250, response: '250 ok' }), 'ambiguous', 250],
  ['aborted by the caller', nmError('Message sending aborted', { code: 'EABORT' }), 'ambiguous', undefined],
  ['queued entry drained by close (no code)', new Error('Connection pool was closed'), 'ambiguous', undefined],
  ['not an Error', 'boom', 'ambiguous', undefined],
  ['undefined', undefined, 'ambiguous', undefined],
  ['file access refused', nmError('File access rejected for /etc/passwd', { code: 'EFILEACCESS' }), 'permanent', undefined],
  ['message too large (client-side)', nmError('Message size larger than allowed 100', { code: 'EMESSAGE', command: 'MAIL FROM' }), 'permanent', undefined],
];

for (const [name, err, kind, code] of rows) {
  test(`classifySendError: ${name} → ${kind}`, () => {
    const result = classifySendError(err);
    assert.equal(result.kind, kind);
    assert.equal(result.code, code);
  });
}

test('classifySendError keeps errorCode and scrubs addresses from message and response', () => {
  const result = classifySendError(
    nmError("Can't send mail - all recipients were rejected: 550 5.1.1 <Jane.Doe+x@mail.example.com> unknown", {
      code: 'EENVELOPE',
      responseCode: 550,
      command: 'RCPT TO',
      response: '550 5.1.1 <Jane.Doe+x@mail.example.com> unknown',
    }),
  );
  assert.deepEqual(result, {
    kind: 'permanent',
    code: 550,
    errorCode: 'EENVELOPE',
    response: '550 5.1.1 <redacted> unknown',
    message: "Can't send mail - all recipients were rejected: 550 5.1.1 <redacted> unknown",
    hardBounce: true, // 5.1.1: the mailbox does not exist (issue 15)
  });
});

test('classifySendError hides the quoted text of a client-side invalid address', () => {
  const result = classifySendError(nmError('Invalid recipient "jane doe<x"', { code: 'EENVELOPE', command: 'API' }));
  assert.equal(result.message, 'Invalid recipient <redacted>');
});

test('scrubAddresses', () => {
  assert.equal(scrubAddresses('to a@b.test and <c.d@e.f>, done'), 'to <redacted> and <redacted>, done');
  assert.equal(scrubAddresses('250 2.0.0 Ok: queued as ABC'), '250 2.0.0 Ok: queued as ABC');
});

test('classifySendInfo: everyone accepted → sent', () => {
  const info = { accepted: ['a@x.test'], rejected: [] };
  assert.deepEqual(classifySendInfo(info, 'a@x.test'), { kind: 'accepted', response: '', partialRejections: 0 });
  assert.deepEqual(classifySendInfo({}, 'a@x.test'), { kind: 'accepted', response: '', partialRejections: 0 });
});

test('classifySendInfo: only a cc refused → sent with partialRejections', () => {
  const info = { rejected: ['c@x.test'], rejectedErrors: [{ recipient: 'c@x.test', responseCode: 550, response: '550 no' }] };
  assert.deepEqual(classifySendInfo(info, 'a@x.test'), { kind: 'accepted', response: '', partialRejections: 1 });
});

test('classifySendInfo: primary refused (case-insensitive) → permanent with its code, scrubbed', () => {
  const info = {
    rejected: ['A@X.test'],
    rejectedErrors: [
      { recipient: 'c@x.test', responseCode: 450, response: '450 later' },
      { recipient: 'A@X.test', responseCode: 550, response: '550 5.1.1 <A@X.test> unknown' },
    ],
  };
  assert.deepEqual(classifySendInfo(info, 'a@x.test'), {
    kind: 'permanent',
    code: 550,
    response: '550 5.1.1 <redacted> unknown',
    errorCode: 'EENVELOPE',
    message: 'primary recipient refused (550)',
    hardBounce: true,
  });
});

// Issue 15: which permanent refusals mean "this mailbox does not exist" (the address is then suppressed).
const BOUNCES: Array<[number | undefined, string, boolean]> = [
  [550, '550 5.1.1 <a@x.test>: Recipient address rejected: User unknown in virtual mailbox table', true],
  [550, '550 5.1.1 The email account that you tried to reach does not exist.', true],
  [553, '553 5.1.10 Recipient address has null MX', true],
  [550, '550 User unknown', true],
  [550, 'Requested action not taken: mailbox unavailable (no such user)', true],
  [551, '551 no such mailbox here', true],
  [550, '550 5.7.1 Message rejected: spam', false],
  [550, '550 5.7.26 Unauthenticated email is not accepted (DMARC), user unknown to us', false],
  [552, '552 5.2.2 Mailbox full', false],
  [554, '554 5.0.0 Transaction failed', false],
  [550, '550 Administrative prohibition', false],
  [450, '450 4.1.1 User unknown (try later)', false],
  [undefined, 'user unknown', false],
];

test('isHardBounce: X.1.1 and X.1.10, or a 550/551/553 saying "user unknown" without an enhanced code; never 5.7.x or 4xx', () => {
  for (const [code, response, expected] of BOUNCES) {
    assert.equal(isHardBounce(code, response), expected, `${code} ${response}`);
  }
  assert.equal(classifySendError(nmError('550 5.7.1 no', { code: 'EENVELOPE', responseCode: 550, response: '550 5.7.1 no' })).hardBounce, undefined);
});

test('messageIdFor is stable, 32 hex chars, and does not reveal the key', () => {
  const id = messageIdFor('email:digest:42:2024-05-01', 'mail.example.com');
  assert.match(id, /^<[0-9a-f]{32}@mail\.example\.com>$/);
  assert.equal(id, messageIdFor('email:digest:42:2024-05-01', 'mail.example.com'));
  assert.notEqual(id, messageIdFor('email:digest:42:2024-05-02', 'mail.example.com'));
  assert.ok(!id.includes('digest'));
});
