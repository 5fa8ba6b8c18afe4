/**
 * limit and peer: the naive pipeline and BullMQ, each in its own child process, swept over concurrencies;
 * the fastest concurrency is repeated until it has REPS runs.
 */
import { CounterReader, cpuMeter } from './measure';
import { runNaive, type LoadResult } from './naive';
import { runPeer } from './bullmq-peer';
import type { RunRecord } from './report';
import { resetSends } from './services';
import type { ChildRun } from './child';
import { log, REPS, SMALL } from './config';
import type { BenchDb, Ctx } from './context';

async function measureLoad(ctx: Ctx, scenario: 'limit' | 'peer', db: BenchDb, recipients: number, concurrency: number): Promise<RunRecord> {
  await resetSends(db.url);
  await ctx.sink.reset();
  const before = await ctx.counters.read(db.name);
  const meter = cpuMeter(ctx.base);
  const opts = { dbUrl: db.url, smtpPort: ctx.sink.port, concurrency };
  const run: ChildRun<LoadResult> =
    scenario === 'limit' ? await runNaive(opts) : await runPeer({ ...opts, redisUrl: ctx.stack.redis.url });
  const cpu = meter.stop();
  const after = await ctx.counters.read(db.name);
  const sink = await ctx.sink.stats();
  const d = CounterReader.delta(before, after);
  const r = run.result;
  if (r.sent !== recipients || sink.count !== recipients) {
    throw new Error(`${scenario} c=${concurrency}: sent ${r.sent}, sink counted ${sink.count}, expected ${recipients}`);
  }
  const rec: RunRecord = {
    scenario,
    variant: `c=${concurrency}`,
    recipients,
    sent: sink.count,
    wallMs: r.wallMs,
    emailsPerSec: (sink.count / r.wallMs) * 1000,
    peakRssBytes: run.peakRssBytes,
    ...d,
    firstMessageMs: sink.firstAt ? sink.firstAt - r.startedAt : null,
    cpuSeconds: { worker: run.cpuSeconds, ...cpu },
  };
  log(`${scenario} c=${concurrency}: ${rec.emailsPerSec.toFixed(0)} emails/s, ${(r.wallMs / 1000).toFixed(1)} s, RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MB, pg ${(d.pgStatements / recipients).toFixed(2)}/email, redis ${(d.redisCommands / recipients).toFixed(2)}/email`);
  return rec;
}

/** Sweep concurrencies once each, then repeat the fastest until it has REPS runs. */
export async function sweep(ctx: Ctx, scenario: 'limit' | 'peer', db: BenchDb, levels: number[]): Promise<{ sweep: RunRecord[]; best: RunRecord[] }> {
  const all: RunRecord[] = [];
  for (const c of levels) all.push(await measureLoad(ctx, scenario, db, SMALL, c));
  const best = all.reduce((a, b) => (b.emailsPerSec > a.emailsPerSec ? b : a));
  const c = Number(best.variant.slice(2));
  const runs = [best];
  while (runs.length < REPS) runs.push(await measureLoad(ctx, scenario, db, SMALL, c));
  return { sweep: all, best: runs };
}
