/** `sendonce prune --older-than <duration>`: retention by hand (the prune schedule does it on its own when configured). */
import { InvalidArgumentError, type Command } from 'commander';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { prune } from '../pruning';
import type { Session } from './session';
import { printJson } from './output';

function parseDuration(value: string): number {
  const ms = /^\d+(ms|s|m|h|d)$/.test(value) ? msToNumber(value as Duration) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`'${value}' is not a duration: use e.g. 90d or 720h`);
  return ms;
}

export function addRetentionCommands(program: Command, session: () => Session): void {
  program
    .command('prune')
    .description('delete finished sends, their dead letters, sent one-off emails and finished runs created before now − <duration>')
    .requiredOption('--older-than <duration>', 'e.g. 90d; at least 2 days with daily windows', parseDuration)
    .option('--json', 'print JSON')
    .action(async (opts: { olderThan: number; json?: boolean }) => {
      const s = session();
      const result = await prune(s.db(), s.jobs.all(), { olderThanMs: opts.olderThan });
      if (opts.json) return printJson(result);
      console.log(
        `pruned before ${result.horizon}: ${result.emailSends} sends, ${result.deadLetters} dead letters, ` +
          `${result.scheduledEmails} one-off emails, ${result.jobRuns} runs; backfills of earlier ticks are now refused`,
      );
    });
}
