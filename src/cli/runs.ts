/**
 * `sendonce runs`: the run history, one line per run, readable in a 120-column terminal — when, which job and
 * window, how it ended and WHY (`skipped (locked_no_expiry)`, `stopped (time_budget)`), the counts a person looks
 * at and how long it took. `--wide` adds every column (run and workflow ids, all counts, the error); `--json` all.
 */
import type { Command } from 'commander';
import { listRuns, type RunRow } from '../api';
import { COUNT_NAMES, type CountName } from '../contract';
import type { Session } from './session';
import { parsePositiveInt } from './parse';
import { printFitted, printJson, printRows } from './output';

export const RUNS_MAX_WIDTH = 120;

/** `1.2s`, `3m04s`, `1h02m`; `-` while running. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The outcome with its reason, when it has one. */
export const outcomeWithReason = (r: Pick<RunRow, 'outcome' | 'reason'>) => (r.reason ? `${r.outcome} (${r.reason})` : r.outcome);

/** The counts the 120-column table shows; --wide and --json show every count. */
export const GLANCE_COUNTS: readonly CountName[] = ['sent', 'deduped', 'dead', 'unknown'];

export function runsTable(rows: RunRow[]): Array<Record<string, string | number>> {
  return rows.map((r) => ({
    started: r.startedAt.slice(5, 19).replace('T', ' '), // MM-DD HH:MM:SS (UTC); --wide has the whole time
    job: r.jobName,
    window: r.window,
    outcome: outcomeWithReason(r),
    ...Object.fromEntries(GLANCE_COUNTS.map((name) => [name, r[name]])),
    took: formatDuration(r.durationMs),
  }));
}

/** Every column of `--wide`: the run's identity and ending, then every count (src/contract/counts.ts). */
export const WIDE_COLUMNS: Array<keyof RunRow & string> = [
  'runId', 'workflowId', 'jobName', 'scheduledAt', 'window', 'startedAt', 'durationMs', 'outcome', 'reason', ...COUNT_NAMES, 'error',
];

export function addRunsCommand(program: Command, session: () => Session): void {
  program
    .command('runs')
    .description('run history from Postgres (job_runs): outcome and reason, counts, duration')
    .option('--job <name>', 'only this job')
    .option('--last <n>', 'how many', parsePositiveInt, 20)
    .option('--wide', 'every column (wider than a terminal)')
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; last: number; wide?: boolean; json?: boolean }) => {
      const s = session();
      if (opts.job) s.job(opts.job);
      const rows = await listRuns(s.db(), { job: opts.job, last: opts.last });
      if (opts.json) printJson(rows);
      else if (opts.wide) printRows(rows, WIDE_COLUMNS);
      else printFitted(runsTable(rows), { maxWidth: RUNS_MAX_WIDTH, shrink: ['job', 'window', 'outcome'] });
    });
}
