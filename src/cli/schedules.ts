/** `sendonce schedule …` and `sendonce backfill`: the Temporal Schedules of the jobs (a thin shell over src/api/schedules.ts). */
import { Option, type Command } from 'commander';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import {
  backfill,
  createOrUpdateSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../api';
import { loadPartialConfig } from '../config';
import { PRUNE_SCHEDULE_NAME, upsertPruneSchedule } from '../schedule';
import type { Session } from './session';
import { parseTime } from './parse';
import { printJson, printRows } from './output';

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

export function addScheduleCommands(program: Command, session: () => Session): void {
  const jobOption = () => new Option('--job <name>', 'job name (see src/jobs)').makeOptionMandatory();

  const schedule = program.command('schedule').description('manage the Temporal Schedules of the jobs');
  schedule
    .command('create')
    .alias('update')
    .description('create or update the schedule of one job (or of every job)')
    .option('--job <name>', 'only this job')
    .option('--paused', 'create it paused')
    .action(async (opts: { job?: string; paused?: boolean }) => {
      const s = session();
      const { TASK_QUEUE } = loadPartialConfig(['TASK_QUEUE']);
      const jobs = opts.job ? [s.job(opts.job)] : s.jobs.all();
      for (const job of jobs) {
        await createOrUpdateSchedule(await s.temporal(), job, { taskQueue: TASK_QUEUE, idPrefix: s.idPrefix, paused: opts.paused });
        console.log(`schedule ${s.idPrefix}-${job.name} is up to date`);
      }
      const { PRUNE_OLDER_THAN, PRUNE_EVERY } = loadPartialConfig(['PRUNE_OLDER_THAN', 'PRUNE_EVERY']);
      if (PRUNE_OLDER_THAN && !opts.job) {
        await upsertPruneSchedule(await s.temporal(), { taskQueue: TASK_QUEUE, idPrefix: s.idPrefix, paused: opts.paused, olderThan: PRUNE_OLDER_THAN, every: PRUNE_EVERY });
        console.log(`schedule ${s.idPrefix}-${PRUNE_SCHEDULE_NAME} is up to date (prune older than ${PRUNE_OLDER_THAN} every ${PRUNE_EVERY})`);
      }
    });
  schedule
    .command('describe')
    .description('next times, recent runs, skipped-overlap and missed-catch-up counts')
    .addOption(jobOption())
    .option('--json', 'print JSON')
    .action(async (opts: { job: string; json?: boolean }) => {
      const s = session();
      const ref = { job: s.job(opts.job), idPrefix: s.idPrefix };
      const d = await describeSchedule(await s.temporal(), ref);
      if (opts.json) return printJson(d);
      console.log(`${d.scheduleId}: ${d.paused ? `PAUSED (${d.note ?? 'no note'})` : 'active'}, ${d.spec}`);
      console.log(`next:    ${d.nextActionTimes.join(', ') || '-'}`);
      console.log(`running: ${d.runningWorkflowIds.join(', ') || '-'}`);
      console.log(`taken ${d.numActionsTaken}, skipped (overlap) ${d.numActionsSkippedOverlap}, missed catch-up window ${d.numActionsMissedCatchupWindow}`);
      printRows(d.recentRuns, ['scheduledAt', 'startedAt', 'workflowId']);
    });
  schedule
    .command('list')
    .description('schedules of this deployment')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = session();
      const rows = await listSchedules(await s.temporal(), s.idPrefix);
      if (opts.json) printJson(rows);
      else printRows(rows, ['scheduleId', 'paused', 'note']);
    });
  schedule
    .command('pause')
    .description('pause: no tick starts until unpaused (ticks meanwhile are dropped; backfill replays them)')
    .addOption(jobOption())
    .requiredOption('--note <text>', 'why (shown in the Temporal Web UI)')
    .action(async (opts: { job: string; note: string }) => {
      const s = session();
      const ref = { job: s.job(opts.job), idPrefix: s.idPrefix };
      await pauseSchedule(await s.temporal(), ref, opts.note);
      console.log(`paused ${s.idPrefix}-${opts.job}`);
    });
  schedule
    .command('unpause')
    .addOption(jobOption())
    .option('--note <text>', 'why')
    .action(async (opts: { job: string; note?: string }) => {
      const s = session();
      const ref = { job: s.job(opts.job), idPrefix: s.idPrefix };
      await unpauseSchedule(await s.temporal(), ref, opts.note);
      console.log(`unpaused ${s.idPrefix}-${opts.job}`);
    });
  schedule
    .command('trigger')
    .description('start a run now (overlap SKIP unless asked otherwise); says which run started, or why none did')
    .addOption(jobOption())
    .addOption(new Option('--overlap <policy>', 'overlap policy').choices(Object.keys(OVERLAP)).default('skip'))
    .action(async (opts: { job: string; overlap: string }) => {
      const s = session();
      const ref = { job: s.job(opts.job), idPrefix: s.idPrefix };
      const r = await triggerSchedule(await s.temporal(), ref, OVERLAP[opts.overlap]);
      const id = `${s.idPrefix}-${opts.job}`;
      if (r.outcome === 'started') console.log(`started ${r.workflowId} (run ${r.firstExecutionRunId})`);
      else if (r.outcome === 'skipped') console.log(`not started: overlap ${opts.overlap} dropped the trigger because ${r.runningWorkflowIds.join(', ') || 'a run'} is in progress`);
      else console.log(`triggered ${id}, but no run was seen starting within 30 s: look with \`sendonce schedule describe --job ${opts.job}\``);
    });
  schedule
    .command('delete')
    .description('delete the schedule (runs already started are not affected)')
    .addOption(jobOption())
    .action(async (opts: { job: string }) => {
      const s = session();
      const ref = { job: s.job(opts.job), idPrefix: s.idPrefix };
      await deleteSchedule(await s.temporal(), ref);
      console.log(`deleted ${s.idPrefix}-${opts.job}`);
    });

  program
    .command('backfill')
    .description('replay the ticks in [--from, --to] one after another (BUFFER_ALL), each in its own window')
    .addOption(jobOption())
    .requiredOption('--from <time>', 'first tick (ISO 8601, inclusive)', parseTime)
    .requiredOption('--to <time>', 'last tick (ISO 8601, inclusive, not in the future)', parseTime)
    .action(async (opts: { job: string; from: Date; to: Date }) => {
      const s = session();
      const req = { job: s.job(opts.job), idPrefix: s.idPrefix, pool: s.db(), from: opts.from, to: opts.to };
      await backfill(await s.temporal(), req);
      console.log(`backfill of ${s.idPrefix}-${opts.job} from ${opts.from.toISOString()} to ${opts.to.toISOString()} requested`);
    });
}
