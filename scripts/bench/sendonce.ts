/**
 * sendonce: one real tick per run — a schedule with a unique id (paused, so only our trigger fires it),
 * handle.trigger(SKIP) → batchWorkflow (lock, pages, one send activity per recipient with claims, dead-letter
 * branch, run summary) → the worker's activities → the sink. The worker is src/worker.ts as a child process,
 * configured only by the environment (devkit/worker-process.ts), so its RSS and CPU are its own.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { scheduleOptionsFor } from '../../src/schedule';
import type { RunSummary } from '../../src/contract';
import { historyChain } from '../../devkit/runs';
import { startWorkerProcess, workerEnv, type WorkerEnvOptions } from '../../devkit/worker-process';
import { benchDigest } from './jobs';
import { stops } from './services';

const ROOT = path.resolve(__dirname, '../..');

/** The `--max-…` V8 flags of package.json's `worker` script: the benchmark runs the worker as deployed. */
export function workerV8Flags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.worker!.split(' ').filter((t) => t.startsWith('--max-'));
}

export interface WorkerChild {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A worker running the bench job (jobs.ts) on the benchmark's services; stopped at the end whatever happens. */
export async function startWorker(o: Omit<WorkerEnvOptions, 'jobsModule'>): Promise<WorkerChild> {
  // The V8 flags of the deployed worker (package.json's `worker` script, the Dockerfile), unless
  // BENCH_WORKER_NODE_ARGS replaces them (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile).
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? workerV8Flags().join(' ')).split(' ').filter(Boolean);
  const env = workerEnv({ ...o, jobsModule: path.join(__dirname, 'jobs.ts') });
  // Bundling the workflows at start-up takes a while on a busy machine: allow two minutes.
  const worker = await startWorkerProcess(env, { nodeArgs, startTimeoutMs: 120_000, stops });
  return { pid: worker.child.pid!, child: worker.child, stop: worker.stop };
}

export interface TickResult {
  summary: RunSummary | undefined;
  /** Set when the run did not finish before the deadline (then it was terminated). */
  timedOut: boolean;
  triggeredAt: number;
  /** The first run's start time, as the server recorded it. */
  workflowStartedAt: number;
  finishedAt: number;
  /** Events per run of the continue-as-new chain, in order. */
  historyEvents: number[];
}

export class TickDriver {
  private constructor(readonly client: Client, private readonly connection: Connection) {}

  static async connect(address: string): Promise<TickDriver> {
    const connection = await Connection.connect({ address });
    return new TickDriver(new Client({ connection }), connection);
  }

  async tick(taskQueue: string, label: string, deadlineMs: number): Promise<TickResult> {
    const options = scheduleOptionsFor(benchDigest, { taskQueue, idPrefix: `bench-${label}-${Date.now()}`, paused: true });
    const handle = await this.client.schedule.create(options);
    try {
      const triggeredAt = Date.now();
      await handle.trigger(ScheduleOverlapPolicy.SKIP);
      let action;
      while (!action) {
        action = (await handle.describe()).info.recentActions[0];
        if (!action) await new Promise((r) => setTimeout(r, 25));
        if (Date.now() - triggeredAt > 30_000) throw new Error('the triggered tick did not start within 30 s');
      }
      const { workflowId, firstExecutionRunId } = action.action.workflow;
      const first = this.client.workflow.getHandle(workflowId, firstExecutionRunId);
      const workflowStartedAt = (await first.describe()).startTime.getTime();
      let summary: RunSummary | undefined;
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), deadlineMs)));
      const outcome = await Promise.race([first.result() as Promise<RunSummary>, deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        timedOut = true;
        await this.client.workflow.getHandle(workflowId).terminate('benchmark deadline').catch(() => undefined);
      } else {
        summary = outcome;
      }
      const finishedAt = Date.now();
      const historyEvents = (await historyChain(this.client, workflowId, firstExecutionRunId)).map((run) => run.events);
      return { summary, timedOut, triggeredAt, workflowStartedAt, finishedAt, historyEvents };
    } finally {
      await handle.delete().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
