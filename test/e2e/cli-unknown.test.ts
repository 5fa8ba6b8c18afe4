/**
 * Issue 19, point 4: deciding about `unknown` outcomes with the real `sendonce` binary, a real worker and a real
 * SMTP sink. Two sends are stored by the server but their replies are lost (unknown). `unknown list` shows them;
 * `resolve --as sent` closes one without a message; `resolve --as resend` sends the other exactly once more with
 * the same Message-ID through a run; who, when and why are kept; resolving again or without a note is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ResolveUnknownResult, UnknownKeyRow } from '../../src/api';
import { cliDigest } from '../fixtures/cli-jobs';
import { cliWorld } from '../support/cli';
import { runBatch, sendRows } from '../support/never-twice';
import { userEmails } from '../../devkit/seed';

const w = cliWorld({ prefix: 'unk', jobs: [cliDigest], jobsModule: path.resolve(__dirname, '../fixtures/cli-jobs.ts'), extraEnv: () => ({ USER: 'operator-ann' }) });

test('unknown list, resolve as sent, resolve as resend (one more copy, same Message-ID), refusals', async () => {
  const addresses = userEmails(4, 'unknown.test');
  const ids = await w.h.seedUsers(addresses);
  const [, lostA, lostB] = addresses;
  w.h.sink.onData((ctx) => (ctx.envelopeRcpt.some((r) => r === lostA || r === lostB) ? 'store-then-drop' : 'accept'));
  const first = await runBatch(w.h, cliDigest);
  assert.equal(first.counts.unknown, 2);
  w.h.sink.onData(undefined);

  const listed = JSON.parse(await w.ok('unknown', 'list', '--job', cliDigest.name, '--json')) as UnknownKeyRow[];
  assert.deepEqual(listed.map((r) => r.recipientId).sort(), [ids[1], ids[2]].sort());
  assert.ok(listed.every((r) => r.window === first.window));
  const table = await w.ok('unknown', 'list', '--job', cliDigest.name);
  assert.match(table, new RegExp(`\\b${listed[0]!.id}\\b`));
  const idOf = (recipientId: string) => listed.find((r) => r.recipientId === recipientId)!.id;

  // sent: closed as delivered, no message, the decision kept.
  const asSent = JSON.parse(await w.ok('unknown', 'resolve', String(idOf(ids[1]!)), '--as', 'sent', '--note', 'customer confirmed receipt', '--json')) as ResolveUnknownResult;
  assert.deepEqual(asSent, { resolved: [idOf(ids[1]!)], as: 'sent', runs: [] });
  assert.equal(w.h.sink.messagesTo(lostA!).length, 1, 'no new message for a key taken as sent');

  // resend: one more copy through a run, with the same Message-ID.
  const resent = JSON.parse(await w.ok('unknown', 'resolve', String(idOf(ids[2]!)), '--as', 'resend', '--note', 'server lost it', '--wait', '--json')) as ResolveUnknownResult;
  assert.equal(resent.runs.length, 1);
  assert.equal(resent.runs[0]!.summary?.outcome, 'completed');
  assert.equal(resent.runs[0]!.summary?.counts.sent, 1);
  const copies = w.h.sink.messagesTo(lostB!);
  assert.equal(copies.length, 2, 'the stored copy and exactly one resend');
  assert.equal(copies[0]!.messageId, copies[1]!.messageId, 'the resend carries the same Message-ID');

  const rows = await sendRows(w.h, cliDigest);
  assert.equal(rows.get(ids[1]!)?.state, 'sent');
  assert.equal(rows.get(ids[2]!)?.state, 'sent');
  const { rows: decisions } = await w.h.db.pool.query<{ resolution: string; note: string; resolved_by: string }>(
    'SELECT resolution, note, resolved_by FROM sendonce.unknown_resolutions ORDER BY id',
  );
  assert.deepEqual(decisions, [
    { resolution: 'sent', note: 'customer confirmed receipt', resolved_by: 'operator-ann' },
    { resolution: 'resend', note: 'server lost it', resolved_by: 'operator-ann' },
  ]);
  assert.deepEqual(JSON.parse(await w.ok('unknown', 'list', '--job', cliDigest.name, '--json')), [], 'nothing left to decide');

  // Refusals: one line, exit 1, nothing changed.
  const again = await w.run('unknown', 'resolve', String(idOf(ids[2]!)), '--as', 'resend', '--note', 'twice?');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^sendonce: not unknown any more: \d+ \(sent\); nothing was changed\n$/);
  const noNote = await w.run('unknown', 'resolve', String(idOf(ids[2]!)), '--as', 'sent', '--note', ' ');
  assert.equal(noNote.code, 1);
  assert.match(noNote.stderr, /^sendonce: --note is required/);
  const missing = await w.run('unknown', 'resolve', '999999', '--as', 'sent', '--note', 'x');
  assert.match(missing.stderr, /^sendonce: no key with id 999999/);
  assert.equal(w.h.sink.messagesTo(lostB!).length, 2, 'still exactly two copies');
});
