/**
 * A fresh migrated database for a test (or a test file) on the cluster npm test shares — dropped afterwards,
 * unless a test failed while it existed: then it is kept, and the run says where (here, and again at the end of
 * scripts/run-tests.ts, which then keeps the cluster's data directory). KEEP_TEST_DB=1 keeps every one.
 *
 * For node:test files only: importing this registers a file-wide afterEach hook that counts failed tests.
 */
import { afterEach } from 'node:test';
import { createPool, type Pool } from '../src/db/pool';
import { createDatabase, dropDatabase, uniqueName } from './databases';
import { noteKeptDatabase, pgAdminUrl } from './shared-services';

// Registered at the top level, so it runs after every test of the file, nested ones included, and before that
// test's own t.after() hooks — so a harness closed in t.after() already knows whether its test failed.
// `passed` is there at run time, but @types/node 24 declares it on SuiteContext only; a Node without it counts no failure.
let failedTests = 0;
afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) failedTests += 1;
});

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** Drop it — or keep it and say where, when a test failed since it was created or KEEP_TEST_DB is set. */
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  // A database created in a file's before() sees every test of the file; one created inside a test, that test
  // (and any running alongside it): those are the failures that may have left their evidence in it.
  const failuresBefore = failedTests;
  const name = uniqueName(prefix).toLowerCase();
  const url = await createDatabase(pgAdminUrl(), name);
  const pool = createPool(url);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const why = process.env.KEEP_TEST_DB ? 'KEEP_TEST_DB is set' : failedTests > failuresBefore ? 'a test using it failed' : undefined;
      if (why) {
        console.log(`kept test database ${url} (${why})`);
        noteKeptDatabase(name, why);
        return;
      }
      await dropDatabase(pgAdminUrl(), name);
    },
  };
}
