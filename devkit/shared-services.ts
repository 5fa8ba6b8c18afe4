/**
 * The services `npm test` (scripts/run-tests.ts) starts once and every test process shares, handed to the test
 * processes through the environment.
 */

export interface SharedServices {
  /** postgres:// URL of the cluster's maintenance database; every test file creates its own database. */
  pgAdminUrl: string;
  redisUrl: string;
  temporalAddress: string;
  /** A directory for the run (prebuilt workflow bundles); removed at the end. */
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
