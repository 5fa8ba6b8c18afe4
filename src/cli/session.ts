/**
 * What a `sendonce` command works with: the job registry and lazily opened connections (Temporal, Postgres, the
 * lock's Redis), closed once the command finishes. Its own module so the subcommand files and main.ts, which
 * adds them, do not import each other.
 */
import type { Client } from '@temporalio/client';
import { loadPartialConfig } from '../config';
import { createPool } from '../db/pool';
import { ConfigError } from '../errors';
import { loadJobRegistry, type JobDefinition } from '../jobs';
import { createJobLock, createLockRedisClient } from '../lock';
import { connectClient, temporalTarget } from '../temporal-connection';
import { LOCAL_STACK_HINT } from './local-stack';

export class Session {
  private client?: Promise<Client>;
  private pool?: ReturnType<typeof createPool>;
  private redis?: ReturnType<typeof createLockRedisClient>;
  readonly jobs = loadJobRegistry(loadPartialConfig(['SENDONCE_JOBS_MODULE']).SENDONCE_JOBS_MODULE);
  constructor(readonly idPrefix: string) {}
  job(name: string): JobDefinition {
    return this.jobs.get(name);
  }
  temporal(): Promise<Client> {
    const target = temporalTarget();
    this.client ??= connectClient(target).catch((err: Error) => {
      throw new Error(`cannot reach Temporal at ${String(target.connectionOptions.address ?? 'localhost:7233')}: ${err.message} (TEMPORAL_ADDRESS: ${LOCAL_STACK_HINT})`);
    });
    return this.client;
  }
  db() {
    this.pool ??= createPool(withHint(() => loadPartialConfig(['DATABASE_URL'])).DATABASE_URL, 2);
    return this.pool;
  }
  /** The job lock as the workers see it (LOCK_BACKEND, REDIS_URL, LOCK_KEY_PREFIX). */
  lockDeps() {
    const config = withHint(() => loadPartialConfig(['LOCK_BACKEND', 'REDIS_URL', 'LOCK_KEY_PREFIX']));
    if (config.LOCK_BACKEND === 'redis' && !config.REDIS_URL) throw new ConfigError(`REDIS_URL is not set: ${LOCAL_STACK_HINT}, or set LOCK_BACKEND=postgres`);
    if (config.LOCK_BACKEND === 'redis') this.redis ??= createLockRedisClient(config.REDIS_URL!);
    const pool = this.db();
    return { pool, lock: createJobLock(config.LOCK_BACKEND, { pool, redis: this.redis, keyPrefix: config.LOCK_KEY_PREFIX }) };
  }
  async close() {
    if (this.client) await this.client.then((c) => c.connection.close()).catch(() => undefined);
    if (this.pool) await this.pool.end().catch(() => undefined);
    this.redis?.disconnect();
  }
}

/** A missing variable, with how the local stack would have provided it. */
function withHint<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    const unset = err instanceof ConfigError ? [...err.message.matchAll(/- (\w+) \(not set\)/g)].map((m) => m[1]) : [];
    if (unset.length > 0) throw new ConfigError(`${unset.join(', ')} ${unset.length > 1 ? 'are' : 'is'} not set: ${LOCAL_STACK_HINT}`);
    throw err;
  }
}
