/**
 * Helpers for the production-readiness tests: the real worker as child processes configured only through
 * the environment (as in a container), a prebuilt workflow bundle, Prometheus scraping, and starting one
 * batch run by hand.
 */
import path from 'node:path';
import fs from 'node:fs';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { freePort } from '../../devkit/services/ports';
import type { RunSummary } from '../../src/contract';
import { writeWorkflowBundle } from '../../scripts/bundle-workflows';
import { redisUrl, temporalAddress, testTmpDir, uniqueName } from './services';

let bundlePath: Promise<string> | undefined;
/** The production path: a bundle built ahead of time, loaded with WORKFLOW_BUNDLE_PATH. */
export function prebuiltBundlePath(): Promise<string> {
  const file = path.join(testTmpDir(), `workflow-bundle-${process.pid}.js`);
  bundlePath ??= fs.existsSync(file) ? Promise.resolve(file) : writeWorkflowBundle(file);
  return bundlePath;
}

export interface WorkerEnvOptions {
  databaseUrl: string;
  smtpPort: number;
  taskQueue: string;
  lockKeyPrefix: string;
  extra?: Record<string, string>;
}

/** The environment of one worker container; ports for metrics and health are picked free. */
export async function workerEnv(o: WorkerEnvOptions): Promise<Record<string, string> & { METRICS_PORT: string; HEALTH_PORT: string }> {
  return {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: redisUrl(),
    LOCK_KEY_PREFIX: o.lockKeyPrefix,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    TASK_QUEUE: o.taskQueue,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(o.smtpPort),
    SMTP_SOCKET_TIMEOUT_MS: '5000',
    SEND_ATTEMPT_TIMEOUT_MS: '10000',
    METRICS_PORT: String(await freePort()),
    HEALTH_PORT: String(await freePort()),
    WORKFLOW_BUNDLE_PATH: await prebuiltBundlePath(),
    ...o.extra,
  };
}

export async function temporalClient(dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
}

/** Start one batch run of `jobName` (as a schedule tick would), with a fixed nominal time. */
export function startBatch(client: Client, taskQueue: string, jobName = 'daily-digest', scheduledAt = new Date().toISOString()): Promise<WorkflowHandle> {
  return client.workflow.start('batchWorkflow', {
    taskQueue,
    workflowId: uniqueName('run'),
    args: [{ jobName, scheduledAt }],
    workflowExecutionTimeout: '5m',
  });
}

export const resultOf = (handle: WorkflowHandle) => handle.result() as Promise<RunSummary>;

/** Prometheus text → series; `total(name)` sums a metric over its label sets (optionally filtered). */
export interface Scrape {
  text: string;
  total(name: string, labels?: Record<string, string>): number;
}

export async function scrape(port: string | number): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return {
    text,
    total(name, labels = {}) {
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) continue;
        const labelText = m[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
  };
}

export async function seedUsers(pool: { query(sql: string, values: unknown[]): Promise<unknown> }, emails: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO users (email, name) SELECT e, 'User ' || ord FROM unnest($1::text[]) WITH ORDINALITY AS t(e, ord)`,
    [emails],
  );
}
