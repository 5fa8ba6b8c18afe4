import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

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
