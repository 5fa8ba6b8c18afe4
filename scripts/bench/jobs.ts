/**
 * SENDONCE_JOBS_MODULE for the benchmark's worker: the demo daily-digest job (same recipient query, loader and
 * template) under its own name, with its page size and in-flight bound from the environment
 * (BENCH_PAGE_SIZE, BENCH_MAX_IN_FLIGHT, BENCH_CHUNK_SIZE; unset = sendonce's defaults).
 */
import { dailyDigest } from '../../devkit/demo/daily-digest';
import type { JobDefinition } from '../../src/jobs';

const num = (v: string | undefined) => (v ? Number(v) : undefined);

export const benchDigest: JobDefinition = {
  ...dailyDigest,
  name: 'bench-digest',
  // A long interval and a paused schedule: only the benchmark's trigger starts runs. Two hours per run (the
  // maxRunDuration, and so the time budget): a million recipients took ~12 minutes at the ~1,400 emails/s this
  // machine gave in stop 10, but ~40 minutes at the ~400 emails/s it gives since; one tick must send them all.
  schedule: { every: '24h', catchupWindow: '1m', maxRunDuration: '2h' },
  ...(num(process.env.BENCH_PAGE_SIZE) ? { pageSize: num(process.env.BENCH_PAGE_SIZE) } : {}),
  ...(num(process.env.BENCH_MAX_IN_FLIGHT) ? { maxInFlight: num(process.env.BENCH_MAX_IN_FLIGHT) } : {}),
  ...(num(process.env.BENCH_CHUNK_SIZE) ? { chunkSize: num(process.env.BENCH_CHUNK_SIZE) } : {}),
};

export const jobs = [benchDigest];
