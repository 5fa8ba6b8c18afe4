import type { Pool } from 'pg';

/** One value per pool, made on first use (e.g. a statement batcher): `const x = perPool((pool) => …); x(pool)`. */
export function perPool<T>(make: (pool: Pool) => T): (pool: Pool) => T {
  const values = new WeakMap<Pool, T>();
  return (pool) => {
    let value = values.get(pool);
    if (value === undefined) {
      value = make(pool);
      values.set(pool, value);
    }
    return value;
  };
}
