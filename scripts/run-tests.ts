/**
 * `npm test`: start one shared set of real services (Postgres, Redis, a Temporal dev server) on free ports,
 * run every test file with node's test runner against them, and stop everything afterwards.
 * Each test file isolates itself inside the shared services (own database, Redis key prefix, task queue,
 * schedule id); tests that must kill or restart a service start a private one.
 * A database kept for inspection (a failed test's, or every one with KEEP_TEST_DB=1: devkit/test-database.ts)
 * keeps the cluster's data directory after the run; the last lines say where and how to open it.
 *
 * Usage: node --import tsx scripts/run-tests.ts [test files…]   (default: test/unit, test/workflow, test/replay, test/integration, test/e2e, test/chaos)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keptDatabases, sharedServicesEnv } from '../devkit/shared-services';
import { startEmbeddedPostgres } from '../devkit/services/postgres';
import { freePort } from '../devkit/services/ports';
import { startRedisServer } from '../devkit/services/redis';
import { startTemporalDevServer } from '../devkit/services/temporal';
import { allStarted, StopStack } from '../devkit/stop-stack';

function listTests(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

/** Keep the run's directory (the cluster's data) when a database in it was kept, and say how to look inside. */
function removeOrKeep(tmp: string): void {
  const kept = keptDatabases(tmp);
  if (kept.length === 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    return;
  }
  const say = (line: string) => process.stderr.write(`[test] ${line}\n`);
  say(`kept ${kept.length} test database(s):`);
  for (const line of kept) say(`  ${line}`);
  say(`Postgres is stopped; its data is in ${path.join(tmp, 'pg')}. To look inside:`);
  say(`  node --import tsx devkit/open-db.ts ${path.join(tmp, 'pg')}     (then: rm -rf ${tmp})`);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args : ['test/unit', 'test/workflow', 'test/replay', 'test/integration', 'test/e2e', 'test/chaos'].flatMap(listTests);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-test-'));
  // The embedded Postgres runs as the `postgres` user when we are root (devkit/services/postgres-install.ts).
  fs.chmodSync(tmp, 0o755);
  const stops = new StopStack();
  stops.push('temp dir', () => removeOrKeep(tmp));
  process.once('SIGINT', () => void stops.stopAll().then(() => process.exit(130)));
  stops.stopOnCrash((err) => console.error('[test] crashed while starting the services; stopping what was started:', err));
  try {
    const [pgPort, redisPort, temporalPort] = [await freePort(), await freePort(), await freePort()];
    const [postgres, redis, temporal] = await allStarted([
      stops.started('postgres', startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: pgPort, unsafeFast: true })),
      stops.started('redis', startRedisServer(redisPort)),
      stops.started('temporal', startTemporalDevServer({ port: temporalPort })),
    ]);
    const env = {
      ...process.env,
      ...sharedServicesEnv({ pgAdminUrl: postgres.adminUrl, redisUrl: redis.url, temporalAddress: temporal.address, tmpDir: tmp }),
    };
    const concurrency = process.env.TEST_CONCURRENCY ?? '2';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
      { stdio: 'inherit', env },
    );
    return await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  } finally {
    await stops.stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[test] ${err.message}`); // one line: where, and what to do (devkit's errors say both)
    process.exit(1);
  },
);
