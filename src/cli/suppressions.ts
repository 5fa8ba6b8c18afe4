/** `sendonce suppressions list|add|remove`: who is not mailed any more, and why (a thin shell over src/api/suppressions.ts). */
import { Argument, Option, type Command } from 'commander';
import { addSuppression, listRemovedSuppressions, listSuppressions, removeSuppressions, SUPPRESSION_REASONS, SuppressionError, type SuppressionRow } from '../api';
import type { Session } from './session';
import { printJson, printRows } from './output';
import { idsParser } from './parse';

export function addSuppressionCommands(program: Command, session: () => Session): void {
  const suppressions = program
    .command('suppressions')
    .description('recipients and addresses that are not mailed any more: unsubscribed, hard-bounced, a complaint, or added by hand');
  suppressions
    .command('list')
    .description('every reason on record, one line each (an address unsubscribed and hard-bounced shows twice)')
    .option('--job <name>', 'only this job (per-job opt-outs, and address suppressions learned from it)')
    .addOption(new Option('--reason <reason>', 'only this reason').choices([...SUPPRESSION_REASONS]))
    .option('--removed', 'suppressions removed earlier instead: who removed them, when, and why')
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; reason?: string; removed?: boolean; json?: boolean }) => {
      const s = session();
      if (opts.job) s.job(opts.job);
      if (opts.removed) {
        const rows = await listRemovedSuppressions(s.db(), { job: opts.job, reason: opts.reason });
        if (opts.json) return printJson(rows);
        return printRows(rows.map(shown), ['suppressionId', 'scope', 'address', 'jobName', 'recipientId', 'reason', 'createdAt', 'removedAt', 'removedBy', 'note']);
      }
      const rows = await listSuppressions(s.db(), { job: opts.job, reason: opts.reason });
      if (opts.json) return printJson(rows);
      printRows(rows.map(shown), ['id', 'scope', 'address', 'jobName', 'recipientId', 'reason', 'detail', 'createdAt']);
    });
  suppressions
    .command('add')
    .description('stop mail to an address (every job), or to one recipient of one job')
    .option('--address <address>', 'no mail of any job to this address')
    .option('--job <name>', 'with --recipient: no more mail of this job to that recipient')
    .option('--recipient <id>', "the job's recipient id")
    .addOption(new Option('--reason <reason>', 'manual (default), or complaint: the person reported the mail as spam').choices(['manual', 'complaint']).default('manual'))
    .option('--note <text>', 'why (kept with the entry)')
    .action(async (opts: { address?: string; job?: string; recipient?: string; reason: 'manual' | 'complaint'; note?: string }) => {
      const s = session();
      if (Boolean(opts.address) === Boolean(opts.job)) throw new SuppressionError('give --address, or --job with --recipient (not both)');
      const result = opts.address
        ? await addSuppression(s.db(), { address: opts.address, note: opts.note, reason: opts.reason })
        : await addSuppression(s.db(), { job: opts.job!, recipientId: opts.recipient ?? '', note: opts.note, reason: opts.reason, jobs: s.jobs });
      console.log(result.added ? 'suppressed' : 'already suppressed: nothing changed');
    });
  suppressions
    .command('remove')
    .description('lift these entries (other reasons for the same person stay); mailed again from the next window if none is left')
    .addArgument(new Argument('<ids...>', 'suppression ids (see `suppressions list`)').argParser(idsParser('suppression', 'suppressions list')))
    .option('--force', 'also lift an unsubscribe or complaint (the person asked for no more mail); needs --note')
    .option('--note <why>', 'why (kept with the removal: `suppressions list --removed`)')
    .option('--by <name>', 'who removes (default: your user name)')
    .action(async (ids: number[], opts: { force?: boolean; note?: string; by?: string }) => {
      const s = session();
      const { removed } = await removeSuppressions(s.db(), ids, opts);
      console.log(`removed: ${removed.join(', ')}`);
    });
}

/** An unsubscribe link carries only the address's hash: show its start when the address is not known. A long why is cut. */
function shown<T extends SuppressionRow>(r: T): T {
  const address = r.address ?? (r.addressHash ? `sha256:${r.addressHash.slice(0, 12)}…` : '-');
  const detail = r.detail && r.detail.length > 48 ? `${r.detail.slice(0, 47)}…` : r.detail;
  return { ...r, address, detail };
}
