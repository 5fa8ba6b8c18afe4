/**
 * Issue 5, acceptance 3 and 7 (the rest of the CLI): `dead-letters redrive` of a dead recipient whose server
 * now accepts delivers exactly one message and marks the dead letter redriven (a second redrive sends
 * nothing); `runs` shows the redrive run; template mistakes are refused at `schedule create`; bad input to
 * redrive and `email schedule` ends with one line and exit 1. The real binary as a subprocess, a real worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { RedriveResult } from '../../src/api';
import { userEmails } from '../../devkit/seed';
import { cliDigest } from '../fixtures/cli-jobs';
import { cliWorld, runSendonce } from '../support/cli';
import { uniqueName } from '../../devkit/databases';
import { runBatch, sendRows } from '../support/never-twice';

const w = cliWorld({ prefix: 'ops', jobs: [cliDigest], jobsModule: path.resolve(__dirname, '../fixtures/cli-jobs.ts') });

test('redrive: a dead recipient whose server now accepts gets exactly one message; redriving again does nothing', async () => {
  const addresses = userEmails(3, 'redrive.test');
  const ids = await w.h.seedUsers(addresses);
  const bad = addresses[1]!;
  w.h.sink.rejectRcpt((a) => (a === bad ? { code: 550, message: '5.1.1 mailbox unavailable' } : undefined));
  const first = await runBatch(w.h, cliDigest);
  assert.equal(first.counts.dead, 1);
  assert.equal(w.h.sink.messagesTo(bad).length, 0);

  const letters = JSON.parse(await w.ok('dead-letters', 'list', '--job', cliDigest.name, '--json')) as Array<{ id: number; recipientId: string }>;
  assert.deepEqual(letters.map((l) => l.recipientId), [ids[1]]);
  w.h.sink.rejectRcpt(undefined); // the mailbox works again

  const redrive = JSON.parse(await w.ok('dead-letters', 'redrive', String(letters[0]!.id), '--wait', '--json')) as RedriveResult;
  assert.deepEqual(redrive.redriven, [letters[0]!.id]);
  assert.equal(redrive.runs.length, 1);
  const run = redrive.runs[0]!;
  assert.deepEqual(run.recipientIds, [ids[1]]);
  assert.equal(run.window, first.window, 'the redrive run works in the dead letter\'s own window');
  assert.match(run.workflowId, new RegExp(`^${w.idPrefix}-${cliDigest.name}-redrive-2026-11-20T10:00:00Z-`));
  assert.equal(run.summary?.outcome, 'completed');
  assert.equal(run.summary?.counts.sent, 1);
  assert.equal(run.summary?.counts.processed, 1, 'only the redriven recipient');
  assert.equal(w.h.sink.messagesTo(bad).length, 1, 'exactly one message');
  for (const good of [addresses[0]!, addresses[2]!]) assert.equal(w.h.sink.messagesTo(good).length, 1, 'the others were not resent');

  const row = (await sendRows(w.h, cliDigest)).get(ids[1]!)!;
  assert.equal(row.state, 'sent');
  assert.equal(row.attempts, 1, 'attempts were reset by the redrive');
  const listed = JSON.parse(await w.ok('dead-letters', 'list', '--all', '--json')) as Array<{ id: number; redrivenAt: string | null }>;
  assert.ok(listed.find((l) => l.id === letters[0]!.id)?.redrivenAt, 'the dead letter is marked redriven');
  assert.match(await w.ok('dead-letters', 'list'), /\(none\)/, 'no open dead letters left');

  const again = JSON.parse(await w.ok('dead-letters', 'redrive', String(letters[0]!.id), '--json')) as RedriveResult;
  assert.deepEqual([again.redriven, again.alreadyRedriven, again.runs], [[], [letters[0]!.id], []]);
  assert.match(await w.ok('dead-letters', 'redrive', '--job', cliDigest.name, '--all'), /nothing to send/);
  assert.equal(w.h.sink.messagesTo(bad).length, 1, 'still exactly one message');

  const runs = JSON.parse(await w.ok('runs', '--job', cliDigest.name, '--json')) as Array<{ workflowId: string; sent: number; processed: number }>;
  const listedRun = runs.find((r) => r.workflowId === run.workflowId);
  assert.deepEqual([listedRun?.processed, listedRun?.sent], [1, 1], '`runs` shows the redrive run with its counts');
});

test('schedule create refuses an unknown template, a template that does not compile, or a missing variable: one line, exit 1, no schedule', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad-template-jobs.ts', 'promo', /^sendonce: invalid job definitions: +- job 'promo': unknown template 'promo-v2' \(known: daily-digest, notice\)\n$/],
    ['bad-syntax-jobs.ts', 'broken', /^sendonce: invalid job definitions: +- job 'broken': template 'broken' \(text\): tag \{% for item in items %\} not closed, line:1, col:1\n$/],
    ['missing-variable-jobs.ts', 'coupon', /^sendonce: invalid job definitions: +- job 'coupon': template 'coupon' uses \{\{code\}\} but the job provides only: name, items, window, unsubscribeUrl\n$/],
  ];
  for (const [fixture, job, expected] of cases) {
    const prefix = uniqueName('bad');
    const r = await runSendonce(['--id-prefix', prefix, 'schedule', 'create', '--job', job], {
      ...w.env, SENDONCE_JOBS_MODULE: path.resolve(__dirname, '../fixtures', fixture),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, expected);
    await assert.rejects(w.h.client.schedule.getHandle(`${prefix}-${job}`).describe(), ScheduleNotFoundError, 'no schedule was created');
  }
});

test('bad input to redrive and email schedule ends with one line and a non-zero exit', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['dead-letters', 'redrive', '999999'], /^sendonce: unknown dead letter id\(s\): 999999 \(see `sendonce dead-letters list --all`\)\n$/],
    [['dead-letters', 'redrive', 'abc'], /'abc' is not a dead letter id/],
    [['dead-letters', 'redrive'], /^sendonce: name dead letter ids, or --job <name> --all \(not both\)\n$/],
    [['dead-letters', 'redrive', '--job', 'nope', '--all'], /^sendonce: unknown job 'nope'/],
    [['email', 'schedule', '--to', 'not an address', '--at', '2030-01-01T00:00:00Z', '--values', '{"subject":"s","body":"b"}'], /^sendonce: --to: address has no local part or no domain\n$/],
    [['email', 'schedule', '--to', 'a@example.com', '--at', 'tomorrow'], /'tomorrow' is not a time/],
    [['email', 'schedule', '--to', 'a@example.com', '--at', '2030-01-01T00:00:00Z', '--values', '[1]'], /--values must be a JSON object/],
    [['email', 'schedule', '--to', 'a@example.com', '--at', '2030-01-01T00:00:00Z', '--template', 'daily-digest', '--values', '{}'], /^sendonce: no one-off job sends template 'daily-digest'/],
  ];
  for (const [args, expected] of cases) {
    const r = await w.run(...args);
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    assert.match(r.stderr, expected, `${args.join(' ')}: ${r.stderr}`);
  }
});
