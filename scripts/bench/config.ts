/**
 * The benchmark's settings, read once from the environment (the variables are listed at the top of main.ts),
 * and its log line. Quick mode (BENCH_QUICK=1) shrinks every size so a development run takes a few minutes.
 */
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const QUICK = Boolean(process.env.BENCH_QUICK);

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number ≥ 0, got "${raw}"`);
  return n;
};

export const SMALL = num('BENCH_SMALL', QUICK ? 1_000 : 10_000);
export const LARGE = num('BENCH_LARGE', QUICK ? 3_000 : 100_000);
export const REPS = num('BENCH_REPS', QUICK ? 1 : 3);
export const LIMIT_CONCURRENCY = QUICK ? [5, 20] : [5, 10, 20, 50];
export const PEER_CONCURRENCY = QUICK ? [10, 50] : [10, 20, 50];
export const LARGE_DEADLINE_MS = num('BENCH_LARGE_DEADLINE_MS', QUICK ? 180_000 : 20 * 60_000);
export const SMALL_DEADLINE_MS = QUICK ? 120_000 : 10 * 60_000;
export const SKIP_LARGE = Boolean(process.env.BENCH_SKIP_LARGE);
export const BASELINES = process.env.BENCH_BASELINES !== '0';

/** Steady-state ticks (the 2nd and 3rd of a window) after each size's sending ticks; BENCH_STEADY=0 skips them. */
export const STEADY_TICKS = process.env.BENCH_STEADY === '0' ? 0 : 2;
/** A steady tick is mostly page round trips: minutes would mean something is badly wrong. */
export const STEADY_DEADLINE_MS = 5 * 60_000;

/**
 * Rows of history in the big-table section (issue 13.4). 10 million by default — what a deployment with
 * 100,000 users keeps after ~100 days; 0 skips the section. Quick mode: 200,000.
 */
export const BIG_ROWS = num('BENCH_BIG_ROWS', QUICK ? 200_000 : 10_000_000);
/** Claims measured per repetition and table; repetitions per table and concurrency. */
export const CLAIM_KEYS = num('BENCH_CLAIM_KEYS', QUICK ? 2_000 : 10_000);
export const CLAIM_REPS = num('BENCH_CLAIM_REPS', QUICK ? 3 : 5);
/** The retention delete is stopped (and reported as stopped) after this long: BENCH_PRUNE_MAX_S, default 10 min. */
export const PRUNE_MAX_MS = num('BENCH_PRUNE_MAX_S', 600) * 1000;
/** Sends in flight in one worker: 5 is SMTP_MAX_CONNECTIONS' default, 50 the main configuration's pool. */
export const CLAIM_CONCURRENCY = QUICK ? [5, 50] : [5, 20, 50];

/** One tick of a million recipients (issue 13.5): only with BENCH_HUGE=1; BENCH_HUGE_SIZE to develop it smaller. */
export const HUGE = Boolean(process.env.BENCH_HUGE) && process.env.BENCH_HUGE !== '0';
export const HUGE_SIZE = num('BENCH_HUGE_SIZE', 1_000_000);
/** A million at ≈ 400 emails/s is ≈ 42 minutes; the bench job's runs may take two hours (jobs.ts). */
export const HUGE_DEADLINE_MS = num('BENCH_HUGE_DEADLINE_MS', 110 * 60_000);

/** The large tick again on two worker processes (issue 13.6); BENCH_TWO_WORKERS=0 skips it. */
export const TWO_WORKERS = process.env.BENCH_TWO_WORKERS !== '0';

export const OUT =
  process.env.BENCH_OUT ?? (QUICK ? path.join(os.tmpdir(), 'sendonce-BENCHMARKS.quick.md') : path.join(ROOT, 'BENCHMARKS.md'));

const t0 = Date.now();
export const elapsedS = () => (Date.now() - t0) / 1000;
export const log = (m: string) => process.stdout.write(`[bench +${elapsedS().toFixed(0)}s] ${m}\n`);

export interface Variant {
  name: string;
  /** Worker environment on top of the main sendonce configuration. */
  env: Record<string, string>;
}

/**
 * Alternatives measured at the small size (REPS runs each, on one fresh worker like the main tick), each a change
 * to the main configuration (worker environment only; BENCH_CHUNK_SIZE / BENCH_MAX_IN_FLIGHT / BENCH_PAGE_SIZE
 * set the bench job's options).
 */
const DEFAULT_VARIANTS: Variant[] = [
  { name: 'SMTP_MAX_CONNECTIONS 5 (the deployment default)', env: { SMTP_MAX_CONNECTIONS: '5' } },
  { name: 'SMTP_MAX_CONNECTIONS 10', env: { SMTP_MAX_CONNECTIONS: '10' } },
  { name: 'chunkSize 1 (one activity per recipient)', env: { BENCH_CHUNK_SIZE: '1' } },
  { name: 'chunkSize 25', env: { BENCH_CHUNK_SIZE: '25' } },
  { name: 'chunkSize 50', env: { BENCH_CHUNK_SIZE: '50' } },
  { name: 'maxInFlight 200, pageSize 500', env: { BENCH_MAX_IN_FLIGHT: '200', BENCH_PAGE_SIZE: '500' } },
];

/** BENCH_VARIANTS=0: none; BENCH_VARIANTS="name:K=V,K=V;name2:K=V": these instead of the default list. */
function parseVariants(spec: string | undefined): Variant[] {
  if (spec === '0') return [];
  if (!spec) return QUICK ? [] : DEFAULT_VARIANTS;
  return spec.split(';').filter(Boolean).map((part) => {
    const [name, kvs = ''] = part.split(':');
    const env = Object.fromEntries(kvs.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    if (!name || Object.keys(env).some((k) => !k)) throw new Error(`BENCH_VARIANTS: cannot read "${part}" (expected name:K=V,K=V)`);
    return { name, env };
  });
}

export const VARIANTS = parseVariants(process.env.BENCH_VARIANTS);
