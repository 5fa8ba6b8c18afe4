/**
 * `sendonce lock status|break --job J`: who holds a job's lock (the run that recorded its token, its fence, the
 * time left) and what is wrong with it; breaking a stuck one — after a confirmation, or `--yes` — takes the next
 * fence first, so the old holder cannot claim again (a thin shell over src/api/locks.ts).
 */
import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { breakLock, lockStatus, type LockStatus } from '../api';
import { LockCommandError } from '../errors';
import type { Session } from './session';
import { formatDuration } from './runs';
import { printJson } from './output';

export function describeLock(s: LockStatus): string[] {
  if (!s.held) return [`${s.jobName}: not held (${s.where}); fence ${s.fence}`];
  const ttl = s.ttlMs === null ? 'no expiry' : `${formatDuration(s.ttlMs ?? 0)} left`;
  const holder = s.holder
    ? `run ${s.holder.runId} (${s.holder.workflowId}), ${s.holder.outcome}, started ${s.holder.startedAt}, fence ${s.holder.fence ?? '-'}`
    : 'a token no run recorded';
  return [
    `${s.jobName}: held (${s.where})${s.problem ? ` — ${s.problem}` : ''}`,
    `  holder  ${holder}`,
    `  token   ${s.token}`,
    `  ttl     ${ttl}`,
    `  fence   ${s.fence} (newest handed out)`,
    `  ${s.advice}`,
  ];
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function addLockCommands(program: Command, session: () => Session): void {
  const lock = program.command('lock').description("a job's lock: who holds it, and breaking a stuck one");
  lock
    .command('status')
    .description('holder run, token, time left and fence; says when the lock is stuck and what to do')
    .requiredOption('--job <name>', 'job name')
    .option('--json', 'print JSON')
    .action(async (opts: { job: string; json?: boolean }) => {
      const s = session();
      s.job(opts.job);
      const status = await lockStatus(s.lockDeps(), opts.job);
      if (opts.json) printJson(status);
      else for (const line of describeLock(status)) console.log(line);
    });
  lock
    .command('break')
    .description('delete the lock after taking the next fence (the old holder cannot claim again)')
    .requiredOption('--job <name>', 'job name')
    .option('--yes', 'do not ask for confirmation')
    .action(async (opts: { job: string; yes?: boolean }) => {
      const s = session();
      s.job(opts.job);
      if (!opts.yes && !process.stdin.isTTY) throw new LockCommandError('lock break asks for confirmation: run it in a terminal, or add --yes');
      const deps = s.lockDeps();
      const before = await lockStatus(deps, opts.job);
      if (before.held) {
        for (const line of describeLock(before)) console.error(line);
        if (!opts.yes && !(await confirm(`break the lock of ${opts.job}?`))) {
          throw new LockCommandError('not broken: not confirmed');
        }
      }
      console.log((await breakLock(deps, before)).message);
    });
}
