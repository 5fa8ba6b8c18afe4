/**
 * Issue 5, acceptance 4: a running batch answers the `progress` query with counts that grow, shows a
 * current-details line, and its description carries the human static summary and details (what the Web UI
 * shows) — for a run started by hand and for a run started by the job's schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { runDescription, upsertSchedule } from '../../src/schedule';
import { progressQuery, type RunProgress } from '../../src/workflows/progress';
import type { RunSummary } from '../../src/contract';
import { userEmails } from '../../devkit/seed';
import { startBatchRun } from '../../devkit/runs';
import { uniqueName } from '../../devkit/databases';
import { testJob } from '../support/harness';
import { harnessFor, SCHEDULED_AT } from '../support/never-twice';
import { eventually } from '../support/eventually';

/** The SDK's built-in metadata query: what the Web UI reads for "current details". */
const METADATA_QUERY = '__temporal_workflow_metadata';

test('progress query grows while a slow batch runs; current details and static summary are shown', async (t) => {
  const job = testJob({ maxInFlight: 1, pageSize: 5 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(12);
  await h.seedUsers(addresses);
  h.sink.onData(() => ({ delayMs: 100, then: 'accept' }));

  const handle = await startBatchRun(h.client, {
    taskQueue: h.taskQueue,
    jobName: job.name,
    scheduledAt: SCHEDULED_AT,
    workflowId: uniqueName(`${job.name}-manual`),
    ...runDescription(job, 'manual run'),
  });
  const query = () => handle.query(progressQuery);
  const first = await eventually(async () => {
    const p = await query();
    return p.processed >= 1 && p.status === 'sending' ? p : undefined;
  }, 'a first progress report with something processed');
  assert.equal(first.jobName, job.name);
  assert.equal(first.window, '2026-11-20');
  assert.equal(first.outcomeSoFar, 'running');
  const later = await eventually(async () => {
    const p = await query();
    return p.sent > first.sent && p.processed > first.processed ? p : undefined;
  }, 'progress that grows');
  assert.ok(later.sent <= addresses.length);

  const metadata = await eventually(async () => {
    const m = (await handle.query(METADATA_QUERY)) as { currentDetails?: string };
    return m.currentDetails?.includes('processed') ? m : undefined;
  }, 'current details with the counts');
  assert.match(metadata.currentDetails!, /\*\*sending\*\* · window 2026-11-20 · processed \d+ · sent \d+/);

  const description = await handle.describe();
  assert.equal(await description.staticSummary(), `sendonce ${job.name}: manual run`);
  const details = await description.staticDetails();
  assert.match(details ?? '', new RegExp(`\\*\\*sendonce job\\*\\* \`${job.name}\``));
  assert.match(details ?? '', /temporal workflow query --type progress/);

  const summary = (await handle.result()) as RunSummary;
  assert.equal(summary.counts.sent, addresses.length);
  const done: RunProgress = await query();
  assert.equal(done.status, 'finished');
  assert.equal(done.outcomeSoFar, 'completed');
  assert.equal(done.sent, addresses.length);
  const finalDetails = (await handle.query(METADATA_QUERY)) as { currentDetails?: string };
  assert.match(finalDetails.currentDetails ?? '', /\*\*completed\*\* .* sent 12/);
});

test('a run started by the schedule carries the job summary and details', async (t) => {
  const job = testJob({ schedule: { every: '1h', catchupWindow: '10s', maxRunDuration: '5m' } });
  const h = await harnessFor(t, [job]);
  await h.seedUsers(userEmails(2));
  const idPrefix = uniqueName('ui');
  const schedule = await upsertSchedule(h.client, job, { taskQueue: h.taskQueue, idPrefix });
  t.after(() => schedule.delete().catch(() => undefined));
  assert.equal((await schedule.describe()).action.staticSummary, `sendonce ${job.name}: scheduled run`);

  await schedule.trigger(ScheduleOverlapPolicy.SKIP);
  const workflowId = await eventually(async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId, 'the triggered run');
  assert.ok(workflowId.startsWith(`${idPrefix}-${job.name}-`), `workflow id names the job and the tick: ${workflowId}`);
  const description = await h.client.workflow.getHandle(workflowId).describe();
  assert.equal(await description.staticSummary(), `sendonce ${job.name}: scheduled run`);
  assert.match((await description.staticDetails()) ?? '', /\*\*Window\*\* daily \(UTC\)/);
  await h.client.workflow.getHandle(workflowId).result();
});
