/**
 * A sendonce worker is two Temporal workers in one process, sharing one set of activity dependencies (pools,
 * SMTP transport and its send slots):
 * - the main worker on TASK_QUEUE: the batch workflow and every activity;
 * - the chunk worker on `<TASK_QUEUE>.chunks` (chunkTaskQueue): the send-chunk activities only, at most
 *   CHUNKS_PER_WORKER at a time.
 * Why: one chunk (100 recipients) already fills a worker's SMTP connections. With chunks on the main queue a
 * worker's pollers took every chunk of a small run while a second worker idled; capped per worker, the chunks
 * this worker cannot start wait on the server, and any other worker with room takes them.
 */
import fs from 'node:fs';
import { Worker, type NativeConnection, type State, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities, type ActivityDeps } from './activities';
import { chunkTaskQueue } from './contract';
import { deploymentOptionsFor, type VersioningSettings } from './worker-versioning/options';
import { bundleWorkflows } from './workflow-bundle';
import { capWorkflowThreadYoungGeneration } from './workflow-thread-memory';

export const WORKFLOWS_PATH = require.resolve('./workflows');

/** Default CHUNKS_PER_WORKER: one chunk sending, one ready behind it so the SMTP connections never wait. */
export const DEFAULT_CHUNKS_PER_WORKER = 2;

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityDeps;
  /** Prebuilt bundle (production, tests); default: bundle src/workflows at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  shutdownForceTime?: WorkerOptions['shutdownForceTime'];
  maxConcurrentActivityTaskExecutions?: number;
  /** Send-chunk activities this process works on at once (CHUNKS_PER_WORKER). */
  chunksPerWorker?: number;
  /** Payload codec (encryption), when configured. */
  dataConverter?: DataConverter;
  /** Join this Worker Deployment version (src/worker-versioning/options.ts); unset = an unversioned worker. */
  versioning?: VersioningSettings;
}

/** The two workers as one: run, shut down and report state together. */
export class SendonceWorker {
  constructor(
    readonly main: Worker,
    readonly chunks: Worker,
  ) {}

  /** Resolves when both have stopped (after shutdown(), or when either fails: then the other is shut down too). */
  async run(): Promise<void> {
    const runs = [this.main.run(), this.chunks.run()];
    try {
      await Promise.all(runs);
    } catch (err) {
      this.shutdown();
      await Promise.allSettled(runs);
      throw err;
    }
  }

  shutdown(): void {
    for (const w of [this.main, this.chunks]) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** RUNNING only when both are. */
  getState(): State {
    const states = [this.main.getState(), this.chunks.getState()];
    return states.every((s) => s === 'RUNNING') ? 'RUNNING' : states.find((s) => s !== 'RUNNING')!;
  }
}

export async function createWorker(options: CreateWorkerOptions): Promise<SendonceWorker> {
  const activities = createActivities(options.activities);
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    activities,
    // Heartbeats reach the server at most once a second (the SDK's default is 80 % of the heartbeat timeout, 48 s
    // for ours): a chunk learns within about a second that its run ended and stops claiming (send-chunk.ts).
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: options.shutdownGraceTime ?? '30s',
    // After the grace time Temporal cancels activities; a send blocked in SMTP does not see that, so give up
    // waiting 10 s later at most (that send's row stays `claimed` and becomes `unknown`, never resent).
    ...(options.shutdownForceTime !== undefined ? { shutdownForceTime: options.shutdownForceTime } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    // Both workers are the same version: the chunk queue is part of it, so a pinned run's chunks go to its version.
    ...(options.versioning ? { workerDeploymentOptions: deploymentOptionsFor(options.versioning) } : {}),
  } satisfies Partial<WorkerOptions>;
  const workflowBundle = options.workflowBundle ?? (await bundleWorkflows({ warnings: false }));
  // The main worker starts the workflow thread: only that thread gets V8's default young generation.
  capWorkflowThreadYoungGeneration();
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    // Bundled here rather than by Worker.create when none is given: the SDK's bundler logs webpack's whole report
    // as one INFO line.
    workflowBundle,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
  });
  const chunks = await Worker.create({
    ...common,
    taskQueue: chunkTaskQueue(options.taskQueue),
    maxConcurrentActivityTaskExecutions: options.chunksPerWorker ?? DEFAULT_CHUNKS_PER_WORKER,
  });
  return new SendonceWorker(main, chunks);
}

/**
 * The workflow code this worker runs: the prebuilt bundle at `path` (WORKFLOW_BUNDLE_PATH, checked now rather than
 * at the first task), else bundled now. The code itself, not a path: its hash is the default build ID.
 */
export async function workflowBundleCode(path: string | undefined): Promise<{ code: string }> {
  if (!path) return bundleWorkflows({ warnings: false });
  if (!fs.existsSync(path)) throw new Error(`WORKFLOW_BUNDLE_PATH: no workflow bundle at ${path} (build it with scripts/bundle-workflows.ts)`);
  return { code: fs.readFileSync(path, 'utf8') };
}
