/**
 * Issue 18.6: any folder, any user, no orphans.
 * - A service made to fail (a `temporal` that exits at once) while npm start and npm test start their stacks: the
 *   process exits 1 with the reason, and every service it had started is stopped first — nothing is left in its
 *   session (each is started as a session leader here, so whatever it spawned keeps that session id).
 * - As root, a Postgres data directory inside a 0700 folder is refused at once with one line naming the folder and
 *   the fix; npm start puts its data under /var/lib/sendonce instead and says why. (A whole clone in a 0700 folder
 *   passing `npm test` was run by hand: docs/operating.md, "Running the pieces yourself".)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../devkit/services/ports';
import { startEmbeddedPostgres } from '../../devkit/services/postgres';
import { localDataDir } from '../../devkit/services/postgres-install';
import { eventually } from '../support/eventually';

const ROOT = path.resolve(__dirname, '../..');
const isRoot = process.getuid?.() === 0;

/** Processes still in the session `sid` (the pid of a session leader we started). */
function sessionMembers(sid: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,sid=,args='], { encoding: 'utf8' });
  return ps.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => Number(f[1]) === sid).map((f) => `${f[0]} ${f.slice(2).join(' ')}`);
}

/** Run a script as a session leader until it exits; its output and what is left of its session. */
async function runAlone(script: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; left: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', () => undefined);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const sid = child.pid!;
  // Stopped before the exit means gone now; an orphan would still be there after any wait.
  const left = await eventually(async () => {
    const members = sessionMembers(sid);
    return members.length === 0 ? [] : undefined;
  }, 'every process of the failed start to be gone', 10_000).catch(() => sessionMembers(sid));
  for (const member of left) process.kill(Number(member.split(' ')[0]), 'SIGKILL'); // ours: do not leave them behind
  return { code, stderr, left };
}

const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TEMPORAL_CLI: '/bin/false' });

test('npm start: a service that fails to start stops the ones already started, then exits 1 saying why', async (t) => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'start-fail-'));
  fs.chmodSync(state, 0o755); // a folder Postgres can reach: this test is about the failing service
  t.after(() => fs.rmSync(state, { recursive: true, force: true }));
  const ports = { SENDONCE_PG_PORT: await freePort(), SENDONCE_REDIS_PORT: await freePort(), SENDONCE_TEMPORAL_PORT: await freePort(), SENDONCE_TEMPORAL_UI_PORT: await freePort() };
  const env = { ...baseEnv(), SENDONCE_STATE_DIR: state, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const r = await runAlone(['devkit/start.ts'], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\[sendonce\] postgres {5}.*\n\[sendonce\] redis {8}redis:\/\/127\.0\.0\.1:\d+\n/, 'postgres and redis had started');
  assert.match(r.stderr, /\[sendonce\] error: temporal dev server exited with code 1/);
  assert.match(r.stderr, /stopping redis\n\[sendonce\] stopping postgres\n/);
  assert.deepEqual(r.left, [], 'no process of the failed start is left running');
  assert.equal(fs.existsSync(path.join(state, 'stack.json')), false, 'no stack file for a stack that never ran');
});

test('npm test: a shared service that fails to start stops the others, then exits 1', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'run-tests-fail-'));
  fs.chmodSync(tmp, 0o755);
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const r = await runAlone(['scripts/run-tests.ts', 'test/unit/window.test.ts'], { ...baseEnv(), TMPDIR: tmp });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /temporal dev server exited with code 1/);
  assert.deepEqual(r.left, [], 'postgres and redis-server were stopped');
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('sendonce-test-')), [], 'its temporary folder is gone');
});

test('a crash while starting (an exception nobody handled) still stops what was started', async () => {
  const r = await runAlone(['test/fixtures/crash-after-start.ts'], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /redis started\ncrashed: spawn initdb EACCES \(simulated\)\n/);
  assert.deepEqual(r.left, [], 'the redis-server it had started was stopped');
});

test('as root, a data directory in a 0700 folder: refused with the folder and the fix, or moved where postgres can reach it', { skip: !isRoot && 'only as root does Postgres run as another user' }, async (t) => {
  const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-'));
  fs.chmodSync(privateDir, 0o700);
  t.after(() => fs.rmSync(privateDir, { recursive: true, force: true }));
  await assert.rejects(startEmbeddedPostgres({ dataDir: path.join(privateDir, 'clone', 'pg'), port: await freePort() }), (err: Error) => {
    assert.equal(err.message.split('\n').length, 1);
    assert.match(err.message, new RegExp(`cannot enter ${privateDir} \\(mode 700\\).*run \`chmod o\\+x ${privateDir}\`, clone the project somewhere else, or set DATABASE_URL`));
    return true;
  });

  const { dataDir, blockedBy } = localDataDir(path.join(privateDir, 'clone', '.sendonce'));
  assert.equal(blockedBy, privateDir);
  assert.match(dataDir, /^\/var\/lib\/sendonce\/clone-[0-9a-f]{10}\/postgres$/);
  t.after(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), unsafeFast: true });
  try {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    assert.equal((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
    await client.end();
  } finally {
    await server.stop();
  }
});
