import pg from 'pg';

// bigint columns (fences, counts) come back as JS numbers: our values stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

export function createPool(databaseUrl: string, max = 20): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection (Postgres restart) must not crash the worker; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}
