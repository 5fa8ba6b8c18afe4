/**
 * Scenario 10: a real schedule triggered twice with overlap ALLOW_ALL (what the TS SDK's trigger() does by
 * default) plus a BUFFER_ALL backfill of two earlier ticks while those runs are live. Only the job lock and
 * the claims stand between that and double sends.
 */
import { ScheduleOverlapPolicy, type ScheduleHandle } from '@temporalio/client';
import { backfill } from '../../../src/api/schedules';
import { upsertSchedule } from '../../../src/schedule';
import type { RunSummary } from '../../../src/contract';
import { uniqueName } from '../../../devkit/databases';
import { chaosScheduled } from '../jobs';
import { settle, until, type Scenario } from '../scenario';
import { sleep } from '../stack';
import type { World } from '../world';

const TICK_MS = 10 * 60_000;

export const duplicateTriggers: Scenario = {
  id: 10,
  name: 'duplicate-triggers-backfill',
  title: 'schedule triggered twice with ALLOW_ALL, plus a BUFFER_ALL backfill of two earlier ticks, all during a live run',
  job: chaosScheduled,
  recipients: 150,
  async run(world) {
    await world.startWorker();
    world.sink.onData(() => ({ delayMs: 20 }));
    const idPrefix = uniqueName('chaos');
    const schedule = await upsertSchedule(world.client, chaosScheduled, { taskQueue: world.taskQueue, idPrefix, paused: true });
    try {
      await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const firstAt = Date.now();
      await until(() => world.sink.count >= 5, 'the first triggered run to send');
      await sleep(Math.max(0, 1_100 - (Date.now() - firstAt))); // a new second: a new workflow id
      await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const aligned = Math.floor(Date.now() / TICK_MS) * TICK_MS;
      await backfill(world.client, { job: chaosScheduled, idPrefix, pool: world.pool, from: new Date(aligned - 2 * TICK_MS - 1_000), to: new Date(aligned - TICK_MS + 1_000) });
      const runs = await scheduledRuns(world, schedule, 4);
      world.notes.push(`runs: ${runs.map((r) => `${r.window} ${r.outcome}${r.reason ? `(${r.reason})` : ''}`).join(', ')}`);
      const windows = [...new Set(runs.filter((r) => r.outcome !== 'skipped').map((r) => r.window))];
      return await settle(world, runs, windows);
    } finally {
      await schedule.delete().catch(() => undefined);
    }
  },
};

/** The summaries of the schedule's first `n` actions (triggers and backfilled ticks), once all have finished. */
async function scheduledRuns(world: World, schedule: ScheduleHandle, n: number): Promise<RunSummary[]> {
  let actions: Array<{ workflowId: string; firstExecutionRunId: string }> = [];
  await until(async () => {
    const d = await schedule.describe();
    actions = d.info.recentActions.map((a) => a.action.workflow);
    return actions.length >= n;
  }, `${n} scheduled runs to start`, 120_000);
  const summaries: RunSummary[] = [];
  for (const a of actions) summaries.push(await world.result(world.client.workflow.getHandle(a.workflowId, a.firstExecutionRunId)));
  return summaries;
}
