/**
 * A fresh migrated database for a test (or a test file) on the cluster npm test shares, dropped afterwards;
 * KEEP_TEST_DB=1 keeps it (and says where) for inspection.
 */
import { createPool, type Pool } from '../src/db/pool';
import { createDatabase, dropDatabase, uniqueName } from './databases';
import { pgAdminUrl } from './shared-services';

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** Drops the database; keeps it (and says where) when KEEP_TEST_DB is set, to inspect a failure. */
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const url = await createDatabase(pgAdminUrl(), name);
  const pool = createPool(url);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      if (process.env.KEEP_TEST_DB) {
        console.log(`kept test database ${url}`);
        return;
      }
      await dropDatabase(pgAdminUrl(), name);
    },
  };
}
