/**
 * SENDONCE_JOBS_MODULE for the benchmark's worker: the demo daily-digest job (same recipient query, loader and
 * template) under its own name, with its page size and in-flight bound from the environment
 * (BENCH_PAGE_SIZE, BENCH_MAX_IN_FLIGHT, BENCH_CHUNK_SIZE; unset = sendonce's defaults).
 */
import { dailyDigest } from '../../src/jobs/daily-digest';
import type { JobDefinition } from '../../src/jobs';

const num = (v: string | undefined) => (v ? Number(v) : undefined);

export const benchDigest: JobDefinition = {
  ...dailyDigest,
  name: 'bench-digest',
  // A long interval and a paused schedule: only the benchmark's trigger starts runs. An hour per run (the demo
  // job's own maxRunDuration, and so its time budget): a million recipients at ~1,400 emails/s take ~12 minutes.
  schedule: { every: '24h', catchupWindow: '1m', maxRunDuration: '1h' },
  ...(num(process.env.BENCH_PAGE_SIZE) ? { pageSize: num(process.env.BENCH_PAGE_SIZE) } : {}),
  ...(num(process.env.BENCH_MAX_IN_FLIGHT) ? { maxInFlight: num(process.env.BENCH_MAX_IN_FLIGHT) } : {}),
  ...(num(process.env.BENCH_CHUNK_SIZE) ? { chunkSize: num(process.env.BENCH_CHUNK_SIZE) } : {}),
};

export const jobs = [benchDigest];
