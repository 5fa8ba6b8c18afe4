/**
 * sendonce ticks: one real schedule tick measured end to end (trigger → workflow result) on worker child
 * processes, and a group of ticks per size on a fresh worker.
 *
 * Two kinds of tick. A *sending* tick starts from no sends (reset first): every recipient gets a message. A
 * *steady* tick is the next tick of the same window — a deployment ticking every 5 minutes with daily windows
 * runs 287 of them a day — so nothing is reset: every key is already sent, the run must send nothing and say
 * so (outcome completed, sent 0, deduped = recipients, no message at the sink).
 */
import type { RunSummary } from '../../src/contract';
import { CounterReader, cpuMeter, rssSampler, statusField, type Watched } from './measure';
import type { RunRecord } from './report';
import { TickDriver, startWorker, type WorkerChild } from './sendonce';
import { eligible, resetSends } from './services';
import { log } from './config';
import type { BenchDb, Ctx } from './context';

export interface TickPlan {
  recipients: number;
  variant: string;
  deadlineMs: number;
  kind: 'sending' | 'steady';
  /** Steady ticks: the window the sending tick used (a tick in another window would send everything again). */
  window?: string;
}

/** CPU names of the workers: `worker` for one, `worker 1`, `worker 2` … for several. */
export const workerNames = (n: number) => Array.from({ length: n }, (_, i) => (n === 1 ? 'worker' : `worker ${i + 1}`));

export async function measureTick(ctx: Ctx, driver: TickDriver, workers: WorkerChild[], db: BenchDb, taskQueue: string, plan: TickPlan): Promise<RunRecord> {
  const { recipients, variant, kind } = plan;
  if (kind === 'sending') {
    await resetSends(db.url);
    await eligible(db.url, recipients);
  }
  await ctx.sink.reset();
  const before = await ctx.counters.read(db.name);
  const names = workerNames(workers.length);
  const watched: Record<string, Watched> = Object.fromEntries(workers.map((w, i) => [names[i]!, { pid: w.pid, tree: false }]));
  const meter = cpuMeter({ ...watched, ...ctx.base });
  const rss = workers.map((w) => rssSampler(w.pid));
  const tick = await driver.tick(taskQueue, `${variant}-${recipients}`, plan.deadlineMs);
  const cpu = meter.stop();
  rss.forEach((r) => r.stop());
  if (process.env.BENCH_DEBUG) log(`worker VmRSS per second (MB): ${rss.map((r) => r.timeline().map((b) => (b / 2 ** 20).toFixed(0)).join(' ')).join(' | ')}`);
  const after = await ctx.counters.read(db.name);
  const sink = await ctx.sink.stats();
  const d = CounterReader.delta(before, after);
  const wallMs = tick.finishedAt - tick.triggeredAt;
  const s = tick.summary;
  if (!tick.timedOut) checkOutcome(plan, s, sink.count);
  const rec: RunRecord = {
    scenario: 'sendonce',
    variant,
    tick: kind,
    recipients,
    sent: sink.count,
    ...(s ? { deduped: s.counts.deduped, window: s.window } : {}),
    wallMs,
    emailsPerSec: (sink.count / wallMs) * 1000,
    peakRssBytes: Math.max(...rss.map((r) => r.peak())),
    ...(workers.length > 1 ? { workerPeakRssBytes: rss.map((r) => r.peak()) } : {}),
    ...d,
    firstMessageMs: sink.firstAt ? sink.firstAt - tick.workflowStartedAt : null,
    triggerToFirstMessageMs: sink.firstAt ? sink.firstAt - tick.triggeredAt : null,
    historyEvents: tick.historyEvents,
    cpuSeconds: cpu,
    outcome: tick.timedOut ? 'timed out' : s?.outcome,
    timedOut: tick.timedOut,
  };
  logTick(rec, d.pgStatements);
  return rec;
}

/** A tick that did something else than its kind promises is a broken benchmark (or product), not a figure. */
function checkOutcome(plan: TickPlan, s: RunSummary | undefined, sinkCount: number): void {
  const got = `outcome ${s?.outcome}, sent ${s?.counts.sent}, deduped ${s?.counts.deduped}, sink ${sinkCount}, window ${s?.window}`;
  const n = plan.recipients;
  if (plan.kind === 'sending' && (s?.outcome !== 'completed' || s.counts.sent !== n || sinkCount !== n)) {
    throw new Error(`sendonce ${n}: ${got}; expected every recipient sent`);
  }
  if (plan.kind === 'steady') {
    if (plan.window && s && s.window !== plan.window) {
      throw new Error(`steady tick of ${n} fell into window ${s.window}, not ${plan.window} (midnight passed?): ${got}`);
    }
    if (s?.outcome !== 'completed' || s.counts.sent !== 0 || s.counts.deduped !== n || sinkCount !== 0) {
      throw new Error(`steady tick of ${n}: ${got}; expected completed, sent 0, deduped ${n}, no message at the sink`);
    }
  }
}

function logTick(rec: RunRecord, pgStatements: number): void {
  const what = rec.tick === 'steady' ? `steady tick ${rec.recipients}: deduped ${rec.deduped}` : `${rec.recipients}: ${rec.emailsPerSec.toFixed(0)} emails/s`;
  log(
    `sendonce ${rec.variant} ${what}, ${(rec.wallMs / 1000).toFixed(1)} s${rec.timedOut ? ' (DEADLINE)' : ''}, ` +
      `RSS ${(rec.peakRssBytes / 2 ** 20).toFixed(0)} MB, pg ${(pgStatements / Math.max(1, rec.recipients)).toFixed(3)}/recipient, ` +
      `history ${rec.historyEvents?.join('+')}, first message ${rec.firstMessageMs} ms after workflow start (${rec.triggerToFirstMessageMs} ms after trigger), ` +
      `cpu ${Object.entries(rec.cpuSeconds).map(([k, v]) => `${k} ${((v / rec.wallMs) * 100000).toFixed(0)}%`).join(' ')}`,
  );
}

export interface TickSize {
  recipients: number;
  reps: number;
  deadlineMs: number;
  /** Steady ticks after the sending ones (same worker, same window). */
  steady?: number;
  steadyDeadlineMs?: number;
}

export interface SizeResult {
  recipients: number;
  runs: RunRecord[];
  steadyRuns: RunRecord[];
  workerHwm: number;
}

/** One bench worker on the benchmark's services (a fresh task queue per size unless given). */
export function benchWorker(ctx: Ctx, db: BenchDb, variant: string, taskQueue: string, env: Record<string, string>): Promise<WorkerChild> {
  return startWorker({
    databaseUrl: db.url,
    redisUrl: ctx.stack.redis.url,
    smtpPort: ctx.sink.port,
    temporalAddress: ctx.stack.temporal.address,
    taskQueue,
    lockKeyPrefix: `bench:${variant}:`,
    extra: env,
  });
}

export async function sendonceGroup(ctx: Ctx, driver: TickDriver, db: BenchDb, variant: string, env: Record<string, string>, sizes: TickSize[]): Promise<SizeResult[]> {
  const out: SizeResult[] = [];
  for (const size of sizes) {
    // A fresh worker per size: its high-water mark is that size's peak RSS.
    const taskQueue = `bench-${variant}-${size.recipients}-${Date.now()}`;
    log(`starting a sendonce worker (${variant}) on task queue ${taskQueue}`);
    const worker = await benchWorker(ctx, db, variant, taskQueue, env);
    try {
      const plan = { recipients: size.recipients, variant, deadlineMs: size.deadlineMs };
      const runs: RunRecord[] = [];
      for (let i = 0; i < size.reps; i++) {
        runs.push(await measureTick(ctx, driver, [worker], db, taskQueue, { ...plan, kind: 'sending' }));
        if (runs[runs.length - 1]!.timedOut) break;
      }
      // Only a fully sent window has a steady state; its RSS is left out of the sending tick's peak on purpose.
      const last = runs[runs.length - 1]!;
      const steadyRuns: RunRecord[] = [];
      for (let i = 0; i < (last.timedOut ? 0 : (size.steady ?? 0)); i++) {
        const steady = { ...plan, kind: 'steady' as const, deadlineMs: size.steadyDeadlineMs ?? size.deadlineMs, window: last.window };
        steadyRuns.push(await measureTick(ctx, driver, [worker], db, taskQueue, steady));
      }
      const workerHwm = statusField(worker.pid, 'VmHWM') ?? 0;
      log(`worker VmHWM (start-up, incl. workflow bundling, and runs): ${(workerHwm / 2 ** 20).toFixed(0)} MB`);
      out.push({ recipients: size.recipients, runs, steadyRuns, workerHwm });
    } finally {
      await worker.stop();
    }
  }
  return out;
}
