/**
 * Applies src/db/migrations/*.sql with node-pg-migrate: numbered plain-SQL files, a migrations table, and an
 * advisory lock so two processes starting together (worker + `npm start`, parallel tests, compose's replicas) never
 * race: the later one waits for it (the library's default, 'fail', made the second replica of a new deployment
 * exit 1 and come back only through its restart policy; test/integration/migrate-together.test.ts).
 */
import path from 'node:path';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

export async function migrate(databaseUrl: string): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'sendonce_migrations',
    log: () => undefined,
    noLock: false,
    advisoryLockMode: 'wait',
  });
  return applied.map((m) => m.name);
}
