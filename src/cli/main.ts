/**
 * The `sendonce` command line: a thin shell over src/api (commander parses; the API does the work).
 * Every failure ends with one line `sendonce: <what and what to do>` and exit code 1.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import {
  backfill,
  createOrUpdateSchedule,
  deleteSchedule,
  describeSchedule,
  listDeadLetters,
  listRuns,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../api';
import { loadPartialConfig } from '../config';
import { PRUNE_SCHEDULE_NAME, upsertPruneSchedule } from '../schedule';
import { createPool } from '../db/pool';
import { loadJobRegistry, type JobDefinition } from '../jobs';
import { connectClient, temporalTarget } from '../temporal-connection';
import { addEmailCommands, addRedriveCommand } from './operate';
import { addDeployCommands } from './deploy';
import { addRetentionCommands } from './retention';
import { addSuppressionCommands } from './suppressions';
import { addUnknownCommands } from './unknown';
import { printRows, printJson } from './output';

const ENVIRONMENT_HELP = `
Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE
                      where Temporal is (schedule, backfill); default localhost:7233, namespace default
  TASK_QUEUE          task queue the schedules start runs on (default sendonce)
  DATABASE_URL        Postgres with the run history, dead letters, scheduled emails and suppressions
  SENDONCE_JOBS_MODULE  module exporting your jobs (default: the built-in demo job)
See README.md for every variable the worker reads.`;

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

function parseTime(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError(`'${value}' is not a time: use ISO 8601, e.g. 2026-11-22T00:00:00Z`);
  }
  return d;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive whole number`);
  return n;
}

/** Lazily opened connections, closed once the command finishes. */
export class Session {
  private client?: Promise<Client>;
  private pool?: ReturnType<typeof createPool>;
  readonly jobs = loadJobRegistry(loadPartialConfig(['SENDONCE_JOBS_MODULE']).SENDONCE_JOBS_MODULE);
  constructor(readonly idPrefix: string) {}
  job(name: string): JobDefinition {
    return this.jobs.get(name);
  }
  temporal(): Promise<Client> {
    const target = temporalTarget();
    this.client ??= connectClient(target).catch((err: Error) => {
      throw new Error(`cannot reach Temporal at ${String(target.connectionOptions.address ?? 'localhost:7233')}: ${err.message} (set TEMPORAL_ADDRESS)`);
    });
    return this.client;
  }
  db() {
    this.pool ??= createPool(loadPartialConfig(['DATABASE_URL']).DATABASE_URL, 2);
    return this.pool;
  }
  async close() {
    if (this.client) await this.client.then((c) => c.connection.close()).catch(() => undefined);
    if (this.pool) await this.pool.end().catch(() => undefined);
  }
}

export function buildProgram(session: () => Session): Command {
  const program = new Command('sendonce')
    .description('Recurring email jobs on Temporal: never overlapping, never twice, never retrying forever.')
    .option('--id-prefix <prefix>', 'prefix of schedule and workflow ids', 'sendonce')
    .addHelpText('after', ENVIRONMENT_HELP)
    .showHelpAfterError('(run with --help for usage)');
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
    .description('start a run now (overlap SKIP unless asked otherwise)')
    .addOption(jobOption())
    .addOption(new Option('--overlap <policy>', 'overlap policy').choices(Object.keys(OVERLAP)).default('skip'))
    .action(async (opts: { job: string; overlap: string }) => {
      const s = session();
      const ref = { job: s.job(opts.job), idPrefix: s.idPrefix };
      await triggerSchedule(await s.temporal(), ref, OVERLAP[opts.overlap]);
      console.log(`triggered ${s.idPrefix}-${opts.job} (overlap ${opts.overlap})`);
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

  program
    .command('runs')
    .description('run history from Postgres (job_runs)')
    .option('--job <name>', 'only this job')
    .option('--last <n>', 'how many', parsePositiveInt, 20)
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; last: number; json?: boolean }) => {
      const s = session();
      if (opts.job) s.job(opts.job);
      const rows = await listRuns(s.db(), { job: opts.job, last: opts.last });
      if (opts.json) printJson(rows);
      else printRows(rows, ['runId', 'jobName', 'scheduledAt', 'window', 'startedAt', 'durationMs', 'outcome', 'processed', 'sent', 'deduped', 'dead', 'unknown']);
    });

  const deadLetters = program.command('dead-letters').description('sends that ended without delivery, with the reason');
  deadLetters
    .command('list')
    .option('--job <name>', 'only this job')
    .option('--all', 'include redriven ones')
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; all?: boolean; json?: boolean }) => {
      const s = session();
      if (opts.job) s.job(opts.job);
      const rows = await listDeadLetters(s.db(), { job: opts.job, includeRedriven: opts.all });
      if (opts.json) printJson(rows);
      else printRows(rows, ['id', 'jobName', 'recipientId', 'errorType', 'smtpCode', 'attempts', 'createdAt', 'redrivenAt']);
    });
  addRedriveCommand(deadLetters, session);
  addEmailCommands(program, session);
  addUnknownCommands(program, session);
  addRetentionCommands(program, session);
  addDeployCommands(program, session);
  addSuppressionCommands(program, session);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  let current: Session | undefined;
  const program = buildProgram(() => (current ??= new Session(program.opts<{ idPrefix: string }>().idPrefix)));
  program.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code?.startsWith('commander.')) {
      // commander already printed its message (and usage) to stderr; help and version exit 0.
      return e.exitCode ?? 1;
    }
    process.stderr.write(`sendonce: ${e.message.split('\n').join(' ')}\n`);
    return 1;
  } finally {
    await current?.close();
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
