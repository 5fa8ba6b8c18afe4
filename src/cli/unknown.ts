/** `sendonce unknown list|resolve`: deciding about sends whose outcome is unknown (a thin shell over src/api/unknown.ts). */
import { Argument, Option, type Command } from 'commander';
import { listUnknown, resolveUnknown } from '../api';
import { loadPartialConfig } from '../config';
import type { Session } from './session';
import { printJson, printRows } from './output';
import { idsParser } from './parse';

export function addUnknownCommands(program: Command, session: () => Session): void {
  const unknown = program
    .command('unknown')
    .description('sends whose outcome is unknown (the server may have the message): list them, and decide');
  unknown
    .command('list')
    .option('--job <name>', 'only this job')
    .option('--window <label>', 'only this window, e.g. 2026-11-23')
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; window?: string; json?: boolean }) => {
      const s = session();
      if (opts.job) s.job(opts.job);
      const rows = await listUnknown(s.db(), { job: opts.job, window: opts.window });
      if (opts.json) printJson(rows);
      else printRows(rows, ['id', 'jobName', 'recipientId', 'window', 'lastErrorType', 'updatedAt']);
    });
  unknown
    .command('resolve')
    .description('sent: take them as delivered; resend: send each once more, same Message-ID, through a run')
    .addArgument(new Argument('<ids...>', 'key ids (see `unknown list`)').argParser(idsParser('key', 'unknown list')))
    .addOption(new Option('--as <decision>', 'sent or resend').choices(['sent', 'resend']).makeOptionMandatory())
    .requiredOption('--note <text>', 'why (kept with the decision)')
    .option('--by <name>', 'who decides (default: your user name)')
    .option('--wait', 'with resend: wait for the runs and print what they sent')
    .option('--json', 'print JSON')
    .action(async (ids: number[], opts: { as: 'sent' | 'resend'; note: string; by?: string; wait?: boolean; json?: boolean }) => {
      const s = session();
      const { TASK_QUEUE } = loadPartialConfig(['TASK_QUEUE']);
      const result = await resolveUnknown(await s.temporal(), s.db(), {
        ids, as: opts.as, note: opts.note, jobs: s.jobs, taskQueue: TASK_QUEUE, idPrefix: s.idPrefix, wait: opts.wait,
        ...(opts.by ? { by: opts.by } : {}),
      });
      if (opts.json) return printJson(result);
      console.log(`resolved as ${result.as}: ${result.resolved.join(', ')}`);
      for (const run of result.runs) {
        const done = run.summary ? ` → ${run.summary.outcome}, sent ${run.summary.counts.sent}` : '';
        console.log(`run ${run.workflowId}: ${run.recipientIds.length} recipient(s) of ${run.jobName}, window ${run.window}${done}`);
      }
    });
}
