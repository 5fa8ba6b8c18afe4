/** Run the real `sendonce` binary as a subprocess, alone or on a harness of its own (cliWorld). */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { JobDefinition } from '../../src/jobs';
import { uniqueName } from '../../devkit/databases';
import { temporalAddress } from '../../devkit/shared-services';
import { startHarness, type Harness } from './harness';

const BIN = path.resolve(__dirname, '../../bin/sendonce.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runSendonce(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A harness running `jobs` and the `sendonce` binary pointed at it (the fixtures module loads the same jobs). */
export interface CliWorld {
  h: Harness;
  env: Record<string, string>;
  idPrefix: string;
  /** The binary with --id-prefix; the result as it is. */
  run(...args: string[]): Promise<CliResult>;
  /** The same, asserting exit 0; its stdout. */
  ok(...args: string[]): Promise<string>;
}

/**
 * Set up in before() (a harness with a worker, env for the binary: Temporal, task queue, database, the jobs
 * module, `extraEnv(h)`), closed in after() — with every schedule of the id prefix deleted. For the CLI e2e tests.
 */
export function cliWorld(options: { prefix: string; jobs: JobDefinition[]; jobsModule: string; extraEnv?: (h: Harness) => Record<string, string> }): CliWorld {
  const world = { idPrefix: uniqueName(options.prefix) } as CliWorld;
  world.run = (...args) => runSendonce(['--id-prefix', world.idPrefix, ...args], world.env);
  world.ok = async (...args) => {
    const r = await world.run(...args);
    assert.equal(r.code, 0, `sendonce ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    world.h = await startHarness({ jobs: options.jobs });
    await world.h.startWorker();
    world.env = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TASK_QUEUE: world.h.taskQueue,
      DATABASE_URL: world.h.db.url,
      SENDONCE_JOBS_MODULE: options.jobsModule,
      ...options.extraEnv?.(world.h),
    };
  });
  after(async () => {
    for (const job of options.jobs) await world.h.client.schedule.getHandle(`${world.idPrefix}-${job.name}`).delete().catch(() => undefined);
    await world.h.close();
  });
  return world;
}
