/**
 * The `sendonce` command line: a thin shell over src/api (commander parses; the API does the work).
 * Every failure ends with one line `sendonce: <what and what to do>` and exit code 1.
 */
import { Command } from 'commander';
import { listDeadLetters } from '../api';
import { useLocalStack } from './local-stack';
import { addDeployCommands } from './deploy';
import { addLockCommands } from './locks';
import { addEmailCommands, addRedriveCommand } from './operate';
import { addRetentionCommands } from './retention';
import { addRunsCommand } from './runs';
import { addScheduleCommands } from './schedules';
import { addSetupCommands } from './setup';
import { addSuppressionCommands } from './suppressions';
import { addUnknownCommands } from './unknown';
import { addWindowsCommands } from './windows';
import { printJson, printRows } from './output';
import { Session } from './session';

const ENVIRONMENT_HELP = `
Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE
                      where Temporal is (schedule, backfill); default localhost:7233, namespace default
  TASK_QUEUE          task queue the schedules start runs on (default sendonce)
  DATABASE_URL        Postgres: run history, dead letters, scheduled emails, suppressions (runs, dead-letters, email, lock, prune)
  REDIS_URL, LOCK_BACKEND, LOCK_KEY_PREFIX   where the job locks are (lock)
  SENDONCE_JOBS_MODULE  module exporting your jobs (default: the built-in demo job)
With none of DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS, TEMPORAL_PROFILE set, the local stack of \`npm start\` in
this clone is used (.sendonce/stack.json). See docs/configuration.md for every variable the worker reads.`;

/** Set by commands that end with another program's exit code (`sendonce temporal …`). */
class ExitWith {
  constructor(readonly code: number) {}
}

export function buildProgram(session: () => Session): Command {
  const program = new Command('sendonce')
    .description('Recurring email jobs on Temporal: never overlapping, never twice, never retrying forever.')
    .option('--id-prefix <prefix>', 'prefix of schedule and workflow ids', 'sendonce')
    .addHelpText('after', ENVIRONMENT_HELP)
    // Before any subcommand is added, so each inherits them: commander throws instead of exiting, and prints
    // nothing itself — runCli turns every error, argument errors included, into one `sendonce: …` line.
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined })
    .enablePositionalOptions();
  addScheduleCommands(program, session);
  addRunsCommand(program, session);

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
  addWindowsCommands(program, session);
  addLockCommands(program, session);
  addSuppressionCommands(program, session);
  addRetentionCommands(program, session);
  addDeployCommands(program, session);
  addSetupCommands(program, session, (code) => {
    throw new ExitWith(code);
  });
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  let current: Session | undefined;
  try {
    useLocalStack();
    const program = buildProgram(() => (current ??= new Session(program.opts<{ idPrefix: string }>().idPrefix)));
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitWith) return err.code;
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    process.stderr.write(`sendonce: ${oneLine(e)}\n`);
    return 1;
  } finally {
    await current?.close();
  }
}

/** Commander's messages start with `error: `; a command group without a command is help, asked for wrongly. */
function oneLine(e: Error & { code?: string }): string {
  if (e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync') return 'name a command (see `sendonce --help`)';
  return e.message.replace(/^error: /, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
