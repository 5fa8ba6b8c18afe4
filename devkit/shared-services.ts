/**
 * The services `npm test` (scripts/run-tests.ts) starts once and every test process shares, handed to the test
 * processes through the environment; and the list of test databases kept for inspection (test-database.ts
 * appends to it, run-tests.ts reports it and then keeps the cluster's data directory).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SharedServices {
  /** postgres:// URL of the cluster's maintenance database; every test file creates its own database. */
  pgAdminUrl: string;
  redisUrl: string;
  temporalAddress: string;
  /** A directory for the run (prebuilt workflow bundles, the kept-databases list); removed at the end. */
  tmpDir: string;
}

const VARIABLES: Record<keyof SharedServices, string> = {
  pgAdminUrl: 'SENDONCE_TEST_PG_ADMIN_URL',
  redisUrl: 'SENDONCE_TEST_REDIS_URL',
  temporalAddress: 'SENDONCE_TEST_TEMPORAL_ADDRESS',
  tmpDir: 'SENDONCE_TEST_TMP',
};

/** The environment variables that hand `services` to the test processes. */
export function sharedServicesEnv(services: SharedServices): Record<string, string> {
  return Object.fromEntries(Object.entries(VARIABLES).map(([key, name]) => [name, services[key as keyof SharedServices]]));
}

function required(key: keyof SharedServices): string {
  const value = process.env[VARIABLES[key]];
  if (!value) {
    throw new Error(`${VARIABLES[key]} is not set: run tests through \`npm test\` or \`node --import tsx scripts/run-tests.ts <file>\``);
  }
  return value;
}

export const pgAdminUrl = () => required('pgAdminUrl');
export const redisUrl = () => required('redisUrl');
export const temporalAddress = () => required('temporalAddress');
export const testTmpDir = () => required('tmpDir');

const keptListOf = (tmpDir: string) => path.join(tmpDir, 'kept-databases.txt');

/** Note one kept database (a line: its name and why) for run-tests.ts to report at the end. */
export function noteKeptDatabase(name: string, why: string): void {
  fs.appendFileSync(keptListOf(testTmpDir()), `${name} (${why})\n`);
}

/** The databases test processes kept during this run, one line each. */
export function keptDatabases(tmpDir: string): string[] {
  const file = keptListOf(tmpDir);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
