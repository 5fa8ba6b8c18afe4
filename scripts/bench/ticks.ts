/**
 * sendonce ticks: one real schedule tick measured end to end (trigger → workflow result) on a worker child
 * process, and a group of ticks per size on a fresh worker.
 */
import { CounterReader, cpuMeter, rssSampler, statusField } from './measure';
import type { RunRecord } from './report';
import { TickDriver, startWorker, type WorkerChild } from './sendonce';
import { eligible, resetSends } from './services';
import { log } from './config';
import type { BenchDb, Ctx } from './context';

export async function measureTick(
  ctx: Ctx,
  driver: TickDriver,
  worker: WorkerChild,
  db: BenchDb,
  taskQueue: string,
  recipients: number,
  variant: string,
  deadlineMs: number,
): Promise<RunRecord> {
  await resetSends(db.url);
  await eligible(db.url, recipients);
  await ctx.sink.reset();
  const before = await ctx.counters.read(db.name);
  const meter = cpuMeter({ worker: { pid: worker.pid, tree: false }, ...ctx.base });
  const rss = rssSampler(worker.pid);
  const tick = await driver.tick(taskQueue, `${variant}-${recipients}`, deadlineMs);
  const cpu = meter.stop();
  rss.stop();
  if (process.env.BENCH_DEBUG) log(`worker VmRSS per second (MB): ${rss.timeline().map((b) => (b / 2 ** 20).toFixed(0)).join(' ')}`);
  const after = await ctx.counters.read(db.name);
  const sink = await ctx.sink.stats();
  const d = CounterReader.delta(before, after);
  const wallMs = tick.finishedAt - tick.triggeredAt;
  const s = tick.summary;
  if (!tick.timedOut && (s?.outcome !== 'completed' || s.counts.sent !== recipients || sink.count !== recipients)) {
    throw new Error(`sendonce ${recipients}: outcome ${s?.outcome}, sent ${s?.counts.sent}, sink ${sink.count}, expected ${recipients}`);
  }
  const rec: RunRecord = {
    scenario: 'sendonce',
    variant,
    recipients,
    sent: sink.count,
    wallMs,
    emailsPerSec: (sink.count / wallMs) * 1000,
    peakRssBytes: rss.peak(),
    ...d,
    firstMessageMs: sink.firstAt ? sink.firstAt - tick.workflowStartedAt : null,
    triggerToFirstMessageMs: sink.firstAt ? sink.firstAt - tick.triggeredAt : null,
    historyEvents: tick.historyEvents,
    cpuSeconds: cpu,
    outcome: tick.timedOut ? 'timed out' : s?.outcome,
    timedOut: tick.timedOut,
  };
  log(
    `sendonce ${variant} ${recipients}: ${rec.emailsPerSec.toFixed(0)} emails/s, ${(wallMs / 1000).toFixed(1)} s${tick.timedOut ? ' (DEADLINE)' : ''}, ` +
      `RSS ${(rec.peakRssBytes / 2 ** 20).toFixed(0)} MB, pg ${(d.pgStatements / Math.max(1, sink.count)).toFixed(2)}/email, ` +
      `history ${tick.historyEvents.join('+')}, first message ${rec.firstMessageMs} ms after workflow start (${rec.triggerToFirstMessageMs} ms after trigger), ` +
      `cpu ${Object.entries(cpu).map(([k, v]) => `${k} ${((v / wallMs) * 100000).toFixed(0)}%`).join(' ')}`,
  );
  return rec;
}

export async function sendonceGroup(
  ctx: Ctx,
  driver: TickDriver,
  db: BenchDb,
  variant: string,
  env: Record<string, string>,
  sizes: Array<{ recipients: number; reps: number; deadlineMs: number }>,
): Promise<Array<{ recipients: number; runs: RunRecord[]; workerHwm: number }>> {
  const out: Array<{ recipients: number; runs: RunRecord[]; workerHwm: number }> = [];
  for (const size of sizes) {
    // A fresh worker per size: its high-water mark is that size's peak RSS.
    const taskQueue = `bench-${variant}-${size.recipients}-${Date.now()}`;
    log(`starting a sendonce worker (${variant}) on task queue ${taskQueue}`);
    const worker = await startWorker({
      databaseUrl: db.url,
      redisUrl: ctx.stack.redis.url,
      smtpPort: ctx.sink.port,
      temporalAddress: ctx.stack.temporal.address,
      taskQueue,
      lockKeyPrefix: `bench:${variant}:`,
      extra: env,
    });
    try {
      const runs: RunRecord[] = [];
      for (let i = 0; i < size.reps; i++) {
        runs.push(await measureTick(ctx, driver, worker, db, taskQueue, size.recipients, variant, size.deadlineMs));
        if (runs[runs.length - 1]!.timedOut) break;
      }
      const workerHwm = statusField(worker.pid, 'VmHWM') ?? 0;
      log(`worker VmHWM (start-up, incl. workflow bundling, and runs): ${(workerHwm / 2 ** 20).toFixed(0)} MB`);
      out.push({ recipients: size.recipients, runs, workerHwm });
    } finally {
      await worker.stop();
    }
  }
  return out;
}
