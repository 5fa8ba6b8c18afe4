/**
 * The real worker entry point (src/worker.ts) as a child process, configured only through the environment exactly
 * as in production — for tests that kill, pause or signal it, the chaos suite's workers and the benchmark's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { DEMO_JOBS_MODULE } from './demo/jobs';
import { freePort } from './services/ports';
import { stopChild } from './services/processes';
import type { StopStack } from './stop-stack';

export interface WorkerProcess {
  child: ChildProcess;
  /** Every JSON log line the worker printed so far (parsed). */
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first log line whose `msg` equals `msg` (and matches `where`, if given). */
  waitForLog(msg: string, where?: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote so far, stdout and stderr, unparsed (for "never printed" assertions). */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');

export interface WorkerProcessOptions {
  /** Node flags before `--import tsx` (the benchmark runs the worker with the deployed V8 flags). */
  nodeArgs?: string[];
  /** How long to wait for `worker_started` (default 60 s; bundling the workflows at start-up takes a while). */
  startTimeoutMs?: number;
  /** Register the process here as soon as it is spawned, so a Ctrl-C during its start-up stops it too. */
  stops?: StopStack;
}

export async function startWorkerProcess(env: Record<string, string>, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = () => stopChild(child, 15_000);
  options.stops?.push(`worker ${child.pid}`, stop);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; where?: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  let output = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
    output += c.toString();
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (line.msg === w.msg && (!w.where || w.where(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLog: WorkerProcess['waitForLog'] = (msg, where, timeoutMs = 60_000) => {
    const found = lines.find((l) => l.msg === msg && (!where || where(l)));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not log '${msg}' within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ msg, where, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (code ${code}, signal ${signal}) before logging '${msg}'; stderr: ${stderr}`));
      });
    });
  };
  const proc: WorkerProcess = { child, lines, waitForLog, exited, output: () => output, stop };
  try {
    await waitForLog('worker_started', undefined, options.startTimeoutMs);
  } catch (err) {
    await stop(); // it may still be starting: nobody else holds it
    throw err;
  }
  return proc;
}

export interface WorkerEnvOptions {
  databaseUrl: string;
  redisUrl: string;
  temporalAddress: string;
  smtpPort: number;
  smtpHost?: string;
  taskQueue: string;
  lockKeyPrefix: string;
  /** A prebuilt workflow bundle (WORKFLOW_BUNDLE_PATH); unset: the worker bundles at start-up. */
  bundlePath?: string;
  /**
   * SENDONCE_JOBS_MODULE; unset: the demo's (devkit/demo/jobs.ts: the daily digest and the built-in one-off job), as
   * `npm start` runs. `null`: none, the image's built-in registry.
   */
  jobsModule?: string | null;
  /** SMTP_SOCKET_TIMEOUT_MS and SEND_ATTEMPT_TIMEOUT_MS (the attempt must outlast the socket); unset: defaults. */
  smtpSocketTimeoutMs?: number;
  sendAttemptTimeoutMs?: number;
  /** Anything else (LOCK_TTL_MS, MAIL_FROM, …); wins over the above. */
  extra?: Record<string, string>;
}

/** The Worker Deployment of the workers of one task queue (workerEnv): tests and chaos worlds each have their own. */
export const deploymentNameFor = (taskQueue: string): string => `sendonce-${taskQueue}`.replace(/[^A-Za-z0-9_-]/g, '-');

/** The environment of one worker process on local services: what a container of it would be given. */
export function workerEnv(o: WorkerEnvOptions): Record<string, string> {
  const optional = (name: string, value: string | number | undefined) => (value === undefined ? {} : { [name]: String(value) });
  return {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    LOCK_KEY_PREFIX: o.lockKeyPrefix,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TASK_QUEUE: o.taskQueue,
    // Versioned like production, but one deployment per task queue: tests and chaos repetitions share a dev server,
    // and promoting a version in one must not move another's runs.
    DEPLOYMENT_NAME: deploymentNameFor(o.taskQueue),
    SMTP_HOST: o.smtpHost ?? '127.0.0.1',
    SMTP_PORT: String(o.smtpPort),
    ...optional('SMTP_SOCKET_TIMEOUT_MS', o.smtpSocketTimeoutMs),
    ...optional('SEND_ATTEMPT_TIMEOUT_MS', o.sendAttemptTimeoutMs),
    ...optional('WORKFLOW_BUNDLE_PATH', o.bundlePath),
    ...optional('SENDONCE_JOBS_MODULE', o.jobsModule === undefined ? DEMO_JOBS_MODULE : (o.jobsModule ?? undefined)),
    ...o.extra,
  };
}

/** Free ports for the worker's /metrics and /healthz (METRICS_PORT, HEALTH_PORT), to add to its environment. */
export async function observabilityPorts(): Promise<{ METRICS_PORT: string; HEALTH_PORT: string }> {
  return { METRICS_PORT: String(await freePort()), HEALTH_PORT: String(await freePort()) };
}
