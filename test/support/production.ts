/**
 * Helpers for the production-readiness tests: the real worker as child processes configured only through
 * the environment (as in a container) with a prebuilt workflow bundle, and Prometheus scraping.
 */
import path from 'node:path';
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { writeWorkflowBundle } from '../../src/workflow-bundle';
import { redisUrl, temporalAddress, testTmpDir } from '../../devkit/shared-services';
import { observabilityPorts, workerEnv as kitWorkerEnv } from '../../devkit/worker-process';

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

/** The environment of one worker container on the shared test services; ports for metrics and health are picked free. */
export async function workerEnv(o: WorkerEnvOptions): Promise<Record<string, string> & { METRICS_PORT: string; HEALTH_PORT: string }> {
  const env = kitWorkerEnv({
    databaseUrl: o.databaseUrl,
    redisUrl: redisUrl(),
    temporalAddress: temporalAddress(),
    smtpPort: o.smtpPort,
    taskQueue: o.taskQueue,
    lockKeyPrefix: o.lockKeyPrefix,
    smtpSocketTimeoutMs: 5_000,
    sendAttemptTimeoutMs: 10_000,
    bundlePath: await prebuiltBundlePath(),
  });
  // The window keeper follows up and expires windows by itself (src/windows/keeper.ts): off unless a test is about it,
  // so that a test's own "the next run sends the rest" is not raced by a follow-up or an expiry.
  return { ...env, WINDOW_KEEPER_INTERVAL_MS: '0', ...(await observabilityPorts()), ...o.extra };
}

export async function temporalClient(dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
}

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
