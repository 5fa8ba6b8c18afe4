/**
 * The `sendonce` CLI as a subprocess against the dev server, with a real worker: schedule create, describe,
 * pause (no ticks), unpause, trigger, backfill of three past days, runs, delete; and the Temporal CLI's own
 * pause reflected in `sendonce schedule describe`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { temporalCliPath } from '../../devkit/services/tool-paths';
import { userEmails } from '../../devkit/seed';
import { temporalAddress } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';
import { cliDigest } from '../fixtures/cli-jobs';
import { runSendonce } from '../support/cli';
import { startHarness, type Harness } from '../support/harness';
import { eventually } from '../support/eventually';

let h: Harness;
let env: Record<string, string>;
const idPrefix = uniqueName('cli');
const scheduleId = `${idPrefix}-${cliDigest.name}`;

before(async () => {
  h = await startHarness({ jobs: [cliDigest] });
  await h.startWorker();
  await h.seedUsers(userEmails(3));
  env = {
    TEMPORAL_ADDRESS: temporalAddress(),
    TASK_QUEUE: h.taskQueue,
    DATABASE_URL: h.db.url,
    SENDONCE_JOBS_MODULE: path.resolve(__dirname, '../fixtures/cli-jobs.ts'),
  };
});
after(async () => {
  await h.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await h.close();
});

const sendonce = async (...args: string[]) => {
  const r = await runSendonce(['--id-prefix', idPrefix, ...args], env);
  assert.equal(r.code, 0, `sendonce ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const describeJson = async () => JSON.parse(await sendonce('schedule', 'describe', '--job', cliDigest.name, '--json')) as {
  paused: boolean; note?: string; numActionsTaken: number; nextActionTimes: string[];
};
const temporal = (...args: string[]) =>
  new Promise<void>((resolve, reject) =>
    execFile(temporalCliPath(), [...args, '--address', temporalAddress()], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );

test('create, describe, pause stops ticks, unpause resumes them', async () => {
  assert.match(await sendonce('schedule', 'create', '--job', cliDigest.name), new RegExp(`schedule ${scheduleId} is up to date`));
  const active = await describeJson();
  assert.equal(active.paused, false);
  assert.ok(active.nextActionTimes.length > 0);
  await eventually(async () => (await describeJson()).numActionsTaken > 0, 'a first tick');

  await sendonce('schedule', 'pause', '--job', cliDigest.name, '--note', 'maintenance window');
  const paused = await describeJson();
  assert.equal(paused.paused, true);
  assert.equal(paused.note, 'maintenance window');
  // Absence of ticks can only be shown by letting time pass: 3 intervals of the 2 s spec.
  await new Promise((r) => setTimeout(r, 6_000));
  assert.equal((await describeJson()).numActionsTaken, paused.numActionsTaken, 'no tick while paused');

  await sendonce('schedule', 'unpause', '--job', cliDigest.name);
  await eventually(async () => (await describeJson()).numActionsTaken > paused.numActionsTaken, 'ticks after unpause');
  assert.match(await sendonce('schedule', 'list'), new RegExp(scheduleId));
});

test('pausing with the temporal CLI shows in sendonce describe and stops ticks', async () => {
  await temporal('schedule', 'toggle', '--pause', '--schedule-id', scheduleId, '--reason', 'paused by temporal cli');
  const paused = await describeJson();
  assert.equal(paused.paused, true);
  assert.equal(paused.note, 'paused by temporal cli');
  await new Promise((r) => setTimeout(r, 5_000));
  assert.equal((await describeJson()).numActionsTaken, paused.numActionsTaken, 'no tick while paused');
  assert.match(await sendonce('schedule', 'describe', '--job', cliDigest.name), /PAUSED \(paused by temporal cli\)/);
});

test('trigger runs once even while paused; backfill of three past days runs three windows once', async () => {
  const sentBefore = h.sink.count;
  await sendonce('schedule', 'trigger', '--job', cliDigest.name);
  await eventually(async () => (await h.db.pool.query(`SELECT 1 FROM sendonce.job_runs WHERE outcome <> 'running' AND started_at > now() - interval '30 seconds'`)).rowCount, 'the triggered run');

  const days = ['2026-11-01', '2026-11-02', '2026-11-03'];
  const backfillAll = async () => {
    for (const day of days) await sendonce('backfill', '--job', cliDigest.name, '--from', `${day}T10:00:00Z`, '--to', `${day}T10:00:00Z`);
  };
  const finishedRuns = async (n: number) => {
    const { rows } = await h.db.pool.query<{ window_key: string; sent: number; deduped: number }>(
      `SELECT window_key, sent, deduped FROM sendonce.job_runs
        WHERE window_key = ANY($1) AND outcome = 'completed' ORDER BY started_at`, [days]);
    return rows.length >= n ? rows : undefined;
  };
  await backfillAll();
  const first = await eventually(() => finishedRuns(3), 'three backfilled runs', 60_000);
  assert.deepEqual(first.map((r) => r.window_key).sort(), days);
  assert.deepEqual(first.map((r) => r.sent), [3, 3, 3]);
  for (const day of days) {
    assert.equal(h.sink.messages().filter((m) => m.subject === `Your daily digest for ${day}`).length, 3, `one per user for ${day}`);
  }
  await backfillAll();
  const again = await eventually(() => finishedRuns(6), 'three more backfilled runs', 60_000);
  assert.deepEqual(again.slice(3).map((r) => [r.sent, r.deduped]), [[0, 3], [0, 3], [0, 3]]);
  // Today's window was already served by the ticks of the first test, so the trigger sent nothing new either.
  assert.equal(h.sink.count - sentBefore, 9, 'three backfilled windows once each; the second backfill sent nothing new');

  const runs = JSON.parse(await sendonce('runs', '--job', cliDigest.name, '--last', '50', '--json')) as Array<{ window: string; sent: number }>;
  assert.equal(runs.filter((r) => days.includes(r.window)).length, 6);
  assert.equal(runs.filter((r) => days.includes(r.window)).reduce((n, r) => n + r.sent, 0), 9);
  assert.match(await sendonce('runs', '--job', cliDigest.name), /completed/);
});

test('bad input ends with one line and a non-zero exit', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['schedule', 'describe', '--job', 'nope'], /^sendonce: unknown job 'nope' \(known: cli-digest\)\n$/],
    [['backfill', '--job', cliDigest.name, '--from', 'yesterday', '--to', '2026-01-01T00:00:00Z'], /'yesterday' is not a time/],
    [['backfill', '--job', cliDigest.name, '--from', '2026-11-03T00:00:00Z', '--to', '2026-11-01T00:00:00Z'], /^sendonce: backfill range is reversed/],
    [['backfill', '--job', cliDigest.name, '--from', '2026-11-01T00:00:00Z', '--to', '2999-01-01T00:00:00Z'], /^sendonce: backfill range reaches into the future/],
    [['runs', '--last', '0'], /'0' is not a positive whole number/],
    [['schedule', 'trigger', '--job', cliDigest.name, '--overlap', 'sometimes'], /Allowed choices are skip/],
  ];
  for (const [args, expected] of cases) {
    const r = await runSendonce(['--id-prefix', idPrefix, ...args], env);
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    assert.match(r.stderr, expected, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('delete removes the schedule; describing it afterwards is a clear error', async () => {
  await sendonce('schedule', 'delete', '--job', cliDigest.name);
  const r = await runSendonce(['--id-prefix', idPrefix, 'schedule', 'describe', '--job', cliDigest.name], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^sendonce: no schedule for job 'cli-digest'.*sendonce schedule create --job cli-digest/);
});
