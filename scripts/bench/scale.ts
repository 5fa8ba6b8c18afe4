/**
 * Scale: one tick on two worker processes (issue 13.6) and one tick of a million recipients (issue 13.5).
 *
 * Two workers: the same job and worker environment as the main configuration (so the same SMTP connections per
 * worker), both on one task queue, started before the tick; which worker sent how many messages is read from
 * each worker's own Prometheus counter `sendonce_emails_sent` (METRICS_PORT), before and after the tick.
 */
import { observabilityPorts } from '../../devkit/worker-process';
import { log } from './config';
import type { BenchDb, Ctx } from './context';
import type { RunRecord } from './report';
import type { TickDriver, WorkerChild } from './sendonce';
import { benchWorker, measureTick, sendonceGroup, type SizeResult } from './ticks';

export interface TwoWorkersResult {
  recipients: number;
  run: RunRecord;
  /** Messages each worker reported sending during the tick (its sendonce_emails_sent counter's increase). */
  sentByWorker: number[];
}

/** The sum of a counter over its label sets in a worker's /metrics (Prometheus text). */
async function counter(metricsPort: string, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

export async function twoWorkerTick(ctx: Ctx, driver: TickDriver, db: BenchDb, env: Record<string, string>, recipients: number, deadlineMs: number): Promise<TwoWorkersResult> {
  const taskQueue = `bench-two-${recipients}-${Date.now()}`;
  const workers: Array<{ child: WorkerChild; metricsPort: string }> = [];
  try {
    for (let i = 0; i < 2; i++) {
      const ports = await observabilityPorts();
      log(`starting sendonce worker ${i + 1} of 2 on task queue ${taskQueue}`);
      workers.push({ child: await benchWorker(ctx, db, 'two', taskQueue, { ...env, ...ports }), metricsPort: ports.METRICS_PORT });
    }
    const sent = () => Promise.all(workers.map((w) => counter(w.metricsPort, 'sendonce_emails_sent')));
    const before = await sent();
    const run = await measureTick(ctx, driver, workers.map((w) => w.child), db, taskQueue, { recipients, variant: 'two-workers', deadlineMs, kind: 'sending' });
    const after = await sent();
    const sentByWorker = after.map((a, i) => a - before[i]!);
    log(`two workers: ${sentByWorker.join(' + ')} messages (sink ${run.sent})`);
    return { recipients, run, sentByWorker };
  } finally {
    for (const w of workers) await w.child.stop();
  }
}

/** One tick of `recipients` on a fresh worker with the main configuration; no steady ticks (minutes each). */
export async function hugeTick(ctx: Ctx, driver: TickDriver, db: BenchDb, env: Record<string, string>, recipients: number, deadlineMs: number): Promise<SizeResult> {
  const [result] = await sendonceGroup(ctx, driver, db, 'huge', env, [{ recipients, reps: 1, deadlineMs }]);
  return result!;
}
