/**
 * `sendonce windows`: the window ledger — each job's windows, whether they are complete, and for the others why,
 * how many recipients are still unsent or were recorded expired, and the follow-ups; `finish` and `expire` act on
 * one window (a thin shell over src/api/windows.ts; the workers' keeper does the work at its next round).
 */
import { Option, type Command } from 'commander';
import { expiredRecipients, expireWindow, finishWindow, listWindows, WINDOW_STATES, type WindowRow, type WindowState } from '../api';
import { WindowCommandError } from '../errors';
import type { Session } from './session';
import { parsePositiveInt } from './parse';
import { printFitted, printJson } from './output';

const time = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');

export function windowsTable(rows: WindowRow[]): Array<Record<string, string | number>> {
  return rows.map((r) => ({
    job: r.jobName,
    window: r.window,
    state: r.state,
    unsent: r.state === 'incomplete' ? (r.unsent ?? 'counting') : '-',
    expired: r.expired ?? '-',
    'follow-ups': r.followUps,
    next: r.state === 'incomplete' ? (r.nextFollowUpAt ? time(r.nextFollowUpAt) : 'needs a person') : '-',
    deadline: time(r.deadline),
    reason: r.reason ?? '-',
  }));
}

function parseDeadline(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new WindowCommandError(`--deadline '${value}' is not a time: use ISO 8601, e.g. 2026-12-07T18:00:00+01:00`);
  return d;
}

export function addWindowsCommands(program: Command, session: () => Session): void {
  const windows = program
    .command('windows')
    .description('the window ledger: which windows are complete, incomplete (why, how many unsent) or expired')
    .option('--job <name>', 'only this job')
    .addOption(new Option('--state <state>', 'only windows in this state').choices([...WINDOW_STATES]))
    .option('--last <n>', 'how many', parsePositiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; state?: WindowState; last: number; json?: boolean }) => {
      const s = session();
      if (opts.job) s.job(opts.job);
      const rows = await listWindows(s.db(), { ...(opts.job ? { jobName: opts.job } : {}), ...(opts.state ? { state: opts.state } : {}), limit: opts.last });
      if (opts.json) printJson(rows);
      else printFitted(windowsTable(rows), { maxWidth: 120, shrink: ['reason', 'job', 'window'] });
    });
  windows
    .command('expired')
    .description('the recipient ids a window did not reach before its deadline')
    .requiredOption('--job <name>', 'the job')
    .requiredOption('--window <label>', 'window label, e.g. 2026-12-07')
    .option('--json', 'print JSON')
    .action(async ({ job, window, json }: { job: string; window: string; json?: boolean }) => {
      const s = session();
      s.job(job);
      const ids = await expiredRecipients(s.db(), job, window);
      if (json) printJson(ids);
      else console.log(ids.length ? ids.join('\n') : '(none)');
    });
  windows
    .command('finish')
    .description('start a follow-up run of the window now (the workers do it within their keeper interval)')
    .requiredOption('--job <name>', 'the job')
    .requiredOption('--window <label>', 'window label, e.g. 2026-12-07')
    .option('--deadline <time>', 'a new deadline (ISO 8601): needed when the old one has passed, or the window expired', parseDeadline)
    .action(async ({ job, window, deadline }: { job: string; window: string; deadline?: Date }) => {
      const s = session();
      s.job(job);
      const row = await finishWindow(s.db(), { jobName: job, window, ...(deadline ? { deadline } : {}) });
      console.log(`window ${row.window} of ${row.jobName}: follow-up due now (deadline ${time(row.deadline)} UTC); a worker starts it within WINDOW_KEEPER_INTERVAL_MS`);
    });
  windows
    .command('expire')
    .description('give up on the window: its unsent recipients are recorded expired, never sent')
    .requiredOption('--job <name>', 'the job')
    .requiredOption('--window <label>', 'window label, e.g. 2026-12-07')
    .action(async ({ job, window }: { job: string; window: string }) => {
      const s = session();
      s.job(job);
      const row = await expireWindow(s.db(), { jobName: job, window });
      console.log(`window ${row.window} of ${row.jobName}: deadline moved to now; a worker records its unsent recipients expired within WINDOW_KEEPER_INTERVAL_MS`);
    });
}
