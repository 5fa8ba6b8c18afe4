/**
 * Issue 18.2–18.4 through the real `sendonce` binary, with a real worker on the shared services:
 * - `schedule trigger` names the run it started, and says SKIP dropped a trigger because that run is in progress;
 * - a lock set by hand without expiry: the skipped run's reason says so (job_runs, `runs`, search attributes),
 *   `lock status` explains it, `lock break` (confirmation or --yes) removes it and takes the next fence;
 * - the Web UI's filters work: the visibility API finds the runs by SendonceOutcome, SendonceReason, SendonceSent;
 * - every error, argument errors included, is one `sendonce: …` line with exit code 1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunSummary } from '../../src/contract';
import { currentFence } from '../../src/lock';
import { userEmails } from '../../devkit/seed';
import { redisUrl, temporalAddress } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';
import { opsDigest } from '../fixtures/ops-jobs';
import { runSendonce } from '../support/cli';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;
let env: Record<string, string>;
const idPrefix = uniqueName('ops');
const scheduleId = `${idPrefix}-${opsDigest.name}`;

before(async () => {
  h = await startHarness({ jobs: [opsDigest] });
  await h.startWorker();
  await h.seedUsers(userEmails(3, 'ops.test'));
  env = {
    TEMPORAL_ADDRESS: temporalAddress(),
    TASK_QUEUE: h.taskQueue,
    DATABASE_URL: h.db.url,
    REDIS_URL: redisUrl(),
    LOCK_KEY_PREFIX: h.keyPrefix,
    SENDONCE_JOBS_MODULE: path.resolve(__dirname, '../fixtures/ops-jobs.ts'),
  };
  await sendonce('schedule', 'create', '--job', opsDigest.name, '--paused');
});
after(async () => {
  await h.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await h.close();
});

async function sendonce(...args: string[]): Promise<string> {
  const r = await runSendonce(['--id-prefix', idPrefix, ...args], env);
  assert.equal(r.code, 0, `sendonce ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const resultOf = (workflowId: string) => h.client.workflow.getHandle(workflowId).result() as Promise<RunSummary>;
/** Runs the visibility API finds for a list query (what the Web UI's filter box sends). */
async function listed(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of h.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

test('trigger names the run it started, and says SKIP dropped the next one because that run is in progress', async () => {
  await h.stopWorker(); // no worker: the first run stays in progress for as long as this test needs (no timing)
  const started = /^started (\S+) \(run (\S+)\)\n$/.exec(await sendonce('schedule', 'trigger', '--job', opsDigest.name));
  assert.ok(started, 'the trigger names its run');
  const workflowId = started[1]!;
  assert.ok(workflowId.startsWith(`${scheduleId}-`), workflowId);
  const skipped = await sendonce('schedule', 'trigger', '--job', opsDigest.name);
  assert.equal(skipped, `not started: overlap skip dropped the trigger because ${workflowId} is in progress\n`);
  await h.startWorker();
  const summary = await resultOf(workflowId);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, 3);
  const completed = `TemporalScheduledById = "${scheduleId}" AND SendonceJob = "${opsDigest.name}" AND SendonceOutcome = "completed" AND SendonceSent = 3`;
  assert.deepEqual(await eventually(async () => (await listed(completed)).length === 1 && listed(completed), 'the completed run in visibility'), [workflowId]);
});

test('a lock set by hand without expiry: the skipped run says why, lock status explains it, lock break clears it', async () => {
  const key = `${h.keyPrefix}job:${opsDigest.name}:lock`;
  await h.redis.set(key, 'x'); // what the issue did: SET job:daily-digest:lock x
  const workflowId = /^started (\S+) /.exec(await sendonce('schedule', 'trigger', '--job', opsDigest.name))![1]!;
  const summary = await resultOf(workflowId);
  assert.deepEqual([summary.outcome, summary.reason], ['skipped', 'locked_no_expiry']);

  const table = await sendonce('runs', '--job', opsDigest.name);
  assert.match(table, /skipped \(locked_no_expiry\)/);
  for (const line of table.trimEnd().split('\n')) assert.ok(line.length <= 120, `runs is ${line.length} columns wide: ${line}`);
  const wide = await sendonce('runs', '--job', opsDigest.name, '--wide');
  assert.match(wide, new RegExp(summary.runId));

  const skippedQuery = `WorkflowId = "${workflowId}" AND SendonceOutcome = "skipped" AND SendonceReason = "locked_no_expiry"`;
  await eventually(async () => (await listed(skippedQuery)).length === 1, 'the skipped run in visibility, with its reason');

  const status = await sendonce('lock', 'status', '--job', opsDigest.name);
  assert.match(status, /held \(Redis key .*job:ops-digest:lock\) — locked_no_expiry/);
  assert.match(status, /holder +a token no run recorded/);
  assert.match(status, /token +x\n/);
  assert.match(status, /ttl +no expiry/);
  assert.match(status, /never frees itself.*sendonce lock break --job ops-digest/);

  const unconfirmed = await runSendonce(['--id-prefix', idPrefix, 'lock', 'break', '--job', opsDigest.name], env);
  assert.deepEqual([unconfirmed.code, unconfirmed.stderr], [1, 'sendonce: lock break asks for confirmation: run it in a terminal, or add --yes\n']);
  assert.equal(await h.redis.get(key), 'x', 'not confirmed: not broken');

  const fenceBefore = await currentFence(h.db.pool, opsDigest.name);
  const broken = await sendonce('lock', 'break', '--job', opsDigest.name, '--yes');
  assert.match(broken, new RegExp(`^broke the lock of ops-digest \\(a token no run recorded\\); fence is now ${fenceBefore + 1}`));
  assert.equal(await h.redis.get(key), null);
  assert.match(await sendonce('lock', 'status', '--job', opsDigest.name), /not held/);

  const next = /^started (\S+) /.exec(await sendonce('schedule', 'trigger', '--job', opsDigest.name))![1]!;
  assert.equal((await resultOf(next)).outcome, 'completed', 'the job runs again');
});

test('every error, argument errors included, is one `sendonce: …` line and exit code 1', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-stack-'));
  const noDeployment = { SENDONCE_STATE_DIR: empty, SENDONCE_JOBS_MODULE: env.SENDONCE_JOBS_MODULE! };
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['backfill', '--job', opsDigest.name, '--to', '2026-11-22T00:05:00Z'], /^sendonce: required option '--from <time>' not specified$/],
    [['backfill', '--job', opsDigest.name, '--from', 'yesterday', '--to', '2026-11-22T00:05:00Z'], /^sendonce: option '--from <time>' argument 'yesterday' is invalid\. 'yesterday' is not a time/],
    [['runs', '--last', '0'], /^sendonce: option '--last <n>' argument '0' is invalid/],
    [['runs', '--bogus'], /^sendonce: unknown option '--bogus'$/],
    [['schedul'], /^sendonce: unknown command 'schedul'/],
    [['lock'], /^sendonce: name a command \(see `sendonce --help`\)$/],
    [['lock', 'status', '--job', 'nope'], /^sendonce: unknown job 'nope'/],
    [['runs'], /^sendonce: DATABASE_URL is not set: set it, or start the local stack with `npm start`/, noDeployment],
  ];
  try {
    for (const [args, expected, environment] of cases) {
      const r = await runSendonce(args, environment ?? env);
      assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`);
      assert.match(r.stderr, /^[^\n]+\n$/, `${args.join(' ')}: one line, got ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr.trimEnd(), expected, args.join(' '));
    }
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
