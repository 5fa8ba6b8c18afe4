/**
 * Open a Postgres data directory kept after a test run (scripts/run-tests.ts prints the command when a failed
 * test kept its database): starts the cluster on a free loopback port, prints a URL per database, and stops
 * it again on Ctrl-C.
 *
 * Usage: node --import tsx devkit/open-db.ts <data dir>
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { databaseUrl } from './databases';
import { freePort } from './services/ports';
import { startEmbeddedPostgres } from './services/postgres';

async function main(): Promise<void> {
  const dataDir = path.resolve(process.argv[2] ?? '');
  if (!process.argv[2] || !fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new Error('usage: node --import tsx devkit/open-db.ts <data dir>  (a directory with a PG_VERSION file)');
  }
  if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
    throw new Error(`${dataDir} has a postmaster.pid: a server may still be running on it (its test run?); not opening it twice`);
  }
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
  process.once('SIGINT', () => void server.stop().then(() => process.exit(0)));
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname <> 'postgres' AND NOT datistemplate ORDER BY datname");
  await admin.end();
  for (const { datname } of rows) console.log(databaseUrl(server.adminUrl, datname));
  console.log('psql or any client can connect to these; Ctrl-C stops the cluster (its data stays).');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
