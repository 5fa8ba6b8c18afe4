/**
 * Big tables stay fast (issue 13.4): claims per second with `email_sends` holding BENCH_BIG_ROWS rows of history
 * against an empty table, and the retention delete (src/pruning.ts prune()) of the oldest tenth of the history.
 *
 * Claims: the two tables are measured in turns (empty, big, empty, big …) so that load from elsewhere on the
 * machine falls on both alike; one untimed warm-up round per table first. Each round uses a window no row has.
 */
import pg from 'pg';
import type { Pool } from 'pg';
import { dropDatabase } from '../../devkit/databases';
import { prune } from '../../src/pruning';
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { claimAndMark, claimsPool, forgetWindow, type ClaimsRep } from './claims-rate';
import { freshWindow, historyDay, seedHistory, type BigTableSeed } from './big-table-seed';
import { CLAIM_CONCURRENCY, CLAIM_KEYS, CLAIM_REPS, log, PRUNE_MAX_MS } from './config';
import type { Stack } from './services';

export interface PruneTiming {
  /** Rows created before this went (the oldest tenth of the days). */
  horizon: string;
  /** Set when the prune was stopped at the time limit (BENCH_PRUNE_MAX_S) before it had deleted everything. */
  stoppedAfterMs?: number;
  deleted: number;
  deadLetters: number;
  totalMs: number;
  batchSize: number;
  /** Time of each batch as the client saw it (one statement each, its own transaction): round trip included. */
  batchMs: number[];
  /** The same statements as Postgres timed them (pg_stat_statements): the longest any batch held its row locks. */
  serverMaxMs: number;
  serverMeanMs: number;
  serverCalls: number;
}

export interface BigTableResult {
  seed: BigTableSeed;
  /** Per concurrency: claims/s of each round on the empty and on the big table. */
  claims: Array<{ concurrency: number; keys: number; empty: ClaimsRep[]; big: ClaimsRep[] }>;
  prune: PruneTiming;
}

export async function bigTableSection(stack: Stack, rows: number): Promise<BigTableResult> {
  const bigUrl = await stack.createDatabase('bench_big');
  const emptyUrl = await stack.createDatabase('bench_claims_empty');
  log(`big table: writing ${rows.toLocaleString('en-US')} rows of history (one INSERT … SELECT generate_series)`);
  const seed = await seedHistory(bigUrl, rows);
  log(
    `big table: ${seed.users} users × ${seed.days} days, insert ${(seed.insertMs / 1000).toFixed(1)} s, dead letters ${(seed.deadLettersMs / 1000).toFixed(1)} s, ` +
      `VACUUM ANALYZE ${(seed.vacuumMs / 1000).toFixed(1)} s; table ${(seed.tableBytes / 2 ** 20).toFixed(0)} MB, indexes ${(seed.indexBytes / 2 ** 20).toFixed(0)} MB`,
  );
  const pools = { empty: claimsPool(emptyUrl), big: claimsPool(bigUrl) };
  try {
    const claims = [];
    for (const concurrency of CLAIM_CONCURRENCY) claims.push(await claimRounds(pools, concurrency));
    const pruned = await timePrune(pools.big, stack, seed);
    return { seed, claims, prune: pruned };
  } finally {
    await Promise.all([pools.empty.end(), pools.big.end()]);
    // Gigabytes at the full size: gone before anything else is measured on this Postgres.
    for (const name of ['bench_big', 'bench_claims_empty']) await dropDatabase(stack.pgAdminUrl, name);
  }
}

let windows = 0;

async function claimRounds(pools: { empty: Pool; big: Pool }, concurrency: number) {
  const result = { concurrency, keys: CLAIM_KEYS, empty: [] as ClaimsRep[], big: [] as ClaimsRep[] };
  for (let rep = -1; rep < CLAIM_REPS; rep++) {
    for (const table of ['empty', 'big'] as const) {
      const window = freshWindow(windows++);
      // The warm-up round (rep −1) is smaller and not kept: connections opened, index pages read once.
      const r = await claimAndMark(pools[table], window, rep < 0 ? Math.min(1_000, CLAIM_KEYS) : CLAIM_KEYS, concurrency);
      await forgetWindow(pools[table], window, table === 'empty');
      if (rep >= 0) result[table].push(r);
    }
  }
  const rates = (xs: ClaimsRep[]) => xs.map((x) => x.perSec.toFixed(0)).join(', ');
  log(`claims, ${concurrency} in flight: empty table ${rates(result.empty)}/s; big table ${rates(result.big)}/s`);
  return result;
}

const PRUNE_BATCH = 5_000;

async function timePrune(pool: Pool, stack: Stack, seed: BigTableSeed): Promise<PruneTiming> {
  const now = new Date();
  // The oldest tenth of the days: ~1 million rows of 10 million.
  const horizon = historyDay(seed, Math.max(1, Math.round(seed.days / 10)));
  const admin = new pg.Client({ connectionString: stack.pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = 'bench_big'), 0)`);
    const batchMs: number[] = [];
    const t0 = performance.now();
    let last = t0;
    let deletedSoFar = 0;
    const stop = new Error('prune time limit');
    const r = await prune(pool, [dailyDigest], {
      olderThanMs: now.getTime() - horizon.getTime(),
      now,
      batchSize: PRUNE_BATCH,
      onBatch: (deleted) => {
        const t = performance.now();
        batchMs.push(t - last);
        last = t;
        deletedSoFar = deleted;
        // A pathological prune (e.g. without migration 0010, ~10 s per batch at 10 million rows) must not take the
        // benchmark's whole evening: stop after PRUNE_MAX_MS and report what it did until then.
        if (t - t0 > PRUNE_MAX_MS) throw stop;
      },
    }).catch((err: unknown) => {
      if (err !== stop) throw err;
      return { horizon: horizon.toISOString(), emailSends: deletedSoFar, deadLetters: NaN, stoppedAtLimit: true };
    });
    const totalMs = performance.now() - t0;
    const stats = await admin.query<{ calls: string; max: number; mean: number }>(
      `SELECT s.calls::text AS calls, s.max_exec_time AS max, s.mean_exec_time AS mean
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = 'bench_big' AND s.query LIKE '%WITH doomed AS%'`,
    );
    const s = stats.rows[0];
    log(
      `prune: ${r.emailSends} rows (+ ${r.deadLetters} dead letters) in ${(totalMs / 1000).toFixed(1)} s, ${batchMs.length} batches, ` +
        `slowest ${Math.max(...batchMs).toFixed(0)} ms (server ${s?.max.toFixed(0)} ms)`,
    );
    return {
      horizon: r.horizon,
      ...('stoppedAtLimit' in r ? { stoppedAfterMs: PRUNE_MAX_MS } : {}),
      deleted: r.emailSends,
      deadLetters: r.deadLetters,
      totalMs,
      batchSize: PRUNE_BATCH,
      batchMs,
      serverMaxMs: s?.max ?? NaN,
      serverMeanMs: s?.mean ?? NaN,
      serverCalls: Number(s?.calls ?? 0),
    };
  } finally {
    await admin.end();
  }
}
