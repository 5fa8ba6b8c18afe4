/**
 * The chaos invariants can fail: the pure checks (scripts/chaos/invariants.ts) on hand-made evidence.
 * (The database-backed ones fail in the guard-removed runs described in RELIABILITY.md's notes.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SinkMessage } from '../../devkit/smtp-sink';
import { headerViolations, keyOf, overlapViolations } from '../../scripts/chaos/invariants';

const at = (s: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, s));
const claim = (key: string, fence: number, s: number) => ({ key, fence, runId: `run-${fence}`, at: at(s) });

test('no overlap: an older fence claiming after a newer holder claimed is reported; before it is fine', () => {
  assert.deepEqual(overlapViolations([claim('a', 1, 0), claim('b', 1, 1), claim('c', 2, 2), claim('d', 2, 3)]), []);
  const late = overlapViolations([claim('a', 1, 0), claim('c', 2, 2), claim('b', 1, 3)]);
  assert.equal(late.length, 1);
  assert.match(late[0]!, /1 claim\(s\) with an older fence after a newer holder had claimed, e\.g\. b with fence 1/);
  assert.deepEqual(overlapViolations(undefined), [], 'no claim log, nothing to check');
});

function message(rawHeaders: string, envelopeRcpt = ['a@example.com']): SinkMessage {
  return { messageId: '<m@x>', to: [], cc: [], subject: '', text: '', html: '', rawHeaders, headers: {}, mailFrom: 'f@x', envelopeRcpt, size: 1, receivedAt: at(0), connection: 'c1' };
}

test('headers: one RCPT, one To line, no Cc/Bcc line', () => {
  const clean = 'From: f@x\r\nTo: a@example.com\r\nX-Sendonce-Key: email:t:1:2026-11-20\r\nSubject: hi';
  assert.deepEqual(headerViolations([message(clean)]), []);
  assert.equal(keyOf(message(clean)), 'email:t:1:2026-11-20');
  assert.equal(headerViolations([message(`${clean}\r\nBcc: victim@evil.test`)]).length, 1);
  assert.equal(headerViolations([message(`${clean}\r\nTo: victim@evil.test`)]).length, 1);
  assert.equal(headerViolations([message(clean, ['a@example.com', 'victim@evil.test'])]).length, 1);
});
