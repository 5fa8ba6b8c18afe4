/**
 * Two worker replicas started together on a new database (`docker compose up` with `replicas: 2`) both migrate
 * it: the second waits for the first's advisory lock and then finds nothing to do. With node-pg-migrate's default
 * lock mode ('fail') the second exited 1 ("Another migration is already running") and came back only through its
 * restart policy — npm run rehearse caught it as a crash loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createDatabase, dropDatabase, uniqueName } from '../../devkit/databases';
import { pgAdminUrl } from '../../devkit/shared-services';
import { migrate, MIGRATIONS_DIR } from '../../src/db/migrate';

test('two processes migrating a new database at the same moment both succeed, and each migration runs once', async () => {
  const name = uniqueName('migrate_together').toLowerCase();
  const url = await createDatabase(pgAdminUrl(), name, { migrate: false });
  try {
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    const files = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'));
    assert.equal(results.flat().length, files.length, `applied ${results.map((r) => r.length).join(' + ')}`);
  } finally {
    await dropDatabase(pgAdminUrl(), name);
  }
});
