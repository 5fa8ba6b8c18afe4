/**
 * `sendonce temporal …`: the pinned Temporal CLI, run as it is, pointed at the same Temporal as sendonce — so the
 * docs' `temporal schedule toggle …` commands work without `temporal` on PATH (scripts/bootstrap.sh builds it
 * into a per-user cache) and without repeating `--address`. Everything after `temporal` goes to it unchanged;
 * its own errors and exit code are its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Pinned Temporal CLI; bump together with scripts/bootstrap.sh. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

/** The per-user cache scripts/bootstrap.sh builds into (shared by every clone and CI run on this machine). */
export function toolCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'sendonce');
}

/**
 * Where the `temporal` CLI is: $TEMPORAL_CLI if set, else the pinned cached build, else one on PATH.
 * The cached build wins over PATH so tests run against the version this project pins.
 */
export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const cached = path.join(toolCacheDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'bin', 'temporal');
  if (fs.existsSync(cached)) return cached;
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the temporal CLI was not found: run `bash scripts/bootstrap.sh` (needs Go) or install it and put it on PATH');
  }
}

/**
 * Run the Temporal CLI with `args`, stdio passed through. It reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY and TEMPORAL_TLS_* from the environment like sendonce does (the local stack's are filled in
 * by local-stack.ts); an explicit `--address` still wins. Resolves with its exit code.
 */
export function runTemporalCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const cli = temporalCliPath();
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { stdio: 'inherit', env });
    child.once('error', (err) => reject(new Error(`could not run the temporal CLI at ${cli}: ${err.message}`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
