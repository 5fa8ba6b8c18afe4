/** `sendonce dead-letters redrive` and `sendonce email schedule`: thin shells over src/api. */
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { idsParser, parseTime } from './parse';
import { redriveDeadLetters, scheduleEmail } from '../api';
import { loadPartialConfig } from '../config';
import type { Session } from './session';
import { printJson } from './output';

export function addRedriveCommand(deadLetters: Command, session: () => Session): void {
  deadLetters
    .command('redrive')
    .description('make dead keys eligible again and send them with a redrive run (still at most once per key)')
    .addArgument(new Argument('[ids...]', 'dead letter ids (see `dead-letters list`)').argParser(idsParser('dead letter', 'dead-letters list')))
    .option('--job <name>', 'with --all: every open dead letter of this job')
    .option('--all', 'all open dead letters of --job')
    .option('--wait', 'wait for the redrive runs and print what they sent')
    .option('--json', 'print JSON')
    .action(async (ids: number[] | undefined, opts: { job?: string; all?: boolean; wait?: boolean; json?: boolean }) => {
      const s = session();
      const { TASK_QUEUE } = loadPartialConfig(['TASK_QUEUE']);
      const result = await redriveDeadLetters(await s.temporal(), s.db(), {
        ids: ids ?? [], job: opts.job, all: opts.all, jobs: s.jobs, taskQueue: TASK_QUEUE, idPrefix: s.idPrefix, wait: opts.wait,
      });
      if (opts.json) return printJson(result);
      console.log(`redriven: ${result.redriven.join(', ') || 'none'}${result.alreadyRedriven.length ? `; redriven before: ${result.alreadyRedriven.join(', ')}` : ''}`);
      if (result.runs.length === 0) console.log('nothing to send: every key asked for is already sent or was never dead');
      for (const run of result.runs) {
        const done = run.summary ? ` → ${run.summary.outcome}${run.summary.reason ? ` (${run.summary.reason})` : ''}, sent ${run.summary.counts.sent}, dead ${run.summary.counts.dead}` : '';
        console.log(`run ${run.workflowId}: ${run.recipientIds.length} recipient(s) of ${run.jobName}, window ${run.window}${done}`);
      }
    });
}

function parseValues(value: string): Record<string, string | number> {
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, string | number>;
  } catch {
    // fall through to the one message below
  }
  throw new InvalidArgumentError(`--values must be a JSON object, e.g. '{"subject":"Hello","body":"…"}'`);
}

export function addEmailCommands(program: Command, session: () => Session): void {
  const email = program.command('email').description('one-off emails, each sent once at (or soon after) a given time');
  email
    .command('schedule')
    .description('schedule one email; the first tick of its one-off job at or after --at sends it, once')
    .requiredOption('--to <address>', 'recipient address')
    .option('--template <name>', 'a template served by a one-off job', 'notice')
    .requiredOption('--at <time>', 'when it is due (ISO 8601)', parseTime)
    .option('--values <json>', 'template values as a JSON object', parseValues, {})
    .action(async (opts: { to: string; template: string; at: Date; values: Record<string, string | number> }) => {
      const s = session();
      const r = await scheduleEmail(s.db(), { to: opts.to, template: opts.template, values: opts.values, at: opts.at }, s.jobs);
      console.log(`scheduled email ${r.id} (job ${r.jobName}) due ${r.dueAt}`);
    });
}
