/**
 * What the rehearsal asserts on the running topology, in order. Each scenario returns its figures (reported and
 * written to the summary) or throws with what it saw.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MailInboxHandle } from '../../devkit/services/mail-inbox';
import type { RestartablePostgres } from '../../devkit/services/postgres';
import { service } from './compose';
import { alertState, targets } from './prometheus';
import { mailCount, poll, replicaHealthy, runOnce, sleep, startReplica, type Context, type Replica } from './stack';

export type Figures = Record<string, string | number | boolean>;

/** `docker compose exec worker node bin/sendonce.js …`: the image's operator CLI, with a replica's environment. */
export function sendonceCli(ctx: Context, replica: Replica, args: string[]) {
  return runOnce(['node', 'bin/sendonce.js', ...args], replica.env, replica.appDir, 60_000);
}

/** One-off emails due now; the scheduled-notices job's next tick (every minute) sends them: counted at the sink. */
export async function firstTickDelivers(ctx: Context, replica: Replica, inbox: MailInboxHandle, count: number): Promise<Figures> {
  const before = await mailCount(inbox);
  const at = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const r = await sendonceCli(ctx, replica, ['email', 'schedule', '--to', `rehearsal-${i}@example.test`, '--at', at, '--values', JSON.stringify({ subject: 'rehearsal', body: `message ${i}` })]);
    if (r.code !== 0) throw new Error(`sendonce email schedule exited ${r.code}: ${r.output}`);
  }
  const started = Date.now();
  await poll(`${count} messages at the mail sink after the next scheduled tick`, 150_000, async () => (await mailCount(inbox)) - before >= count, 1_000);
  const deliveredMs = Date.now() - started;
  await sleep(5_000); // a duplicate would arrive within the same run
  const delivered = (await mailCount(inbox)) - before;
  if (delivered !== count) throw new Error(`expected ${count} messages at the sink, found ${delivered} (duplicates?)`);
  return { scheduled: count, delivered, secondsUntilDelivered: Math.round(deliveredMs / 100) / 10 };
}

const logHas = (file: string, text: string) => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text);

/**
 * `docker stop` of a worker that is still starting: as compose runs it (its `init`), 300 ms after the start, and
 * as PID 1 with no init, at its first log line (after config, before migrations, bundle and Temporal connection).
 */
export async function sigtermDuringStartup(ctx: Context): Promise<Figures> {
  const figures: Figures = {};
  const asComposed = await startReplica(ctx, 'worker', 'startup-probe-compose', {}, { restart: 'no' });
  await sleep(300);
  const a = await asComposed.program.stop(6_000);
  figures.composeInit = service(ctx.compose, 'worker').init === true;
  figures.composeExitMs = a.ms;
  figures.composeExitCode = a.code;
  // PID 1 without init whatever compose says: the worker's own handler must take the signal.
  const noInit = await startReplica(ctx, 'worker', 'startup-probe-pid1', {}, { init: false, restart: 'no' });
  const log = noInit.program.spec.logFile;
  await poll('worker_starting logged', 20_000, async () => logHas(log, 'worker_starting'), 20);
  const b = await noInit.program.stop(6_000);
  figures.pid1ExitMs = b.ms;
  figures.pid1ExitCode = b.code;
  if (a.killed || a.ms > 5_000) throw new Error(`a worker stopped during start-up (as compose runs it) took ${a.ms} ms${a.killed ? ' and was SIGKILLed' : ''}`);
  if (b.killed || b.ms > 5_000) throw new Error(`a worker stopped during start-up as PID 1 took ${b.ms} ms${b.killed ? ' and was SIGKILLed' : ''} (its SIGTERM handler is installed too late)`);
  return figures;
}

/** A configuration the worker refuses: it must exit non-zero (so `restart: on-failure` and Kubernetes retry it). */
export async function fatalConfigExitsNonZero(ctx: Context): Promise<Figures> {
  const probe = await startReplica(ctx, 'worker', 'bad-config-probe', { LOCK_BACKEND: 'zookeeper' }, { restart: 'no' });
  const started = Date.now();
  const code = await Promise.race([probe.program.exited(), sleep(30_000).then(() => -1)]);
  const ms = Date.now() - started;
  await probe.program.stop(2_000);
  const line = fs.readFileSync(probe.program.spec.logFile, 'utf8').split('\n').find((l) => l.includes('LOCK_BACKEND')) ?? '';
  if (code === -1) throw new Error('a worker with LOCK_BACKEND=zookeeper did not exit within 30 s');
  if (code === 0) throw new Error('a worker with LOCK_BACKEND=zookeeper exited 0');
  return { exitCode: code, exitMs: ms, message: line.slice(0, 160) };
}

/** Every replica stopped: SendonceNoWorkerUp fires in the real Prometheus; replicas started again: it resolves. */
export async function noWorkerUpAlert(ctx: Context, replicas: Replica[], prometheusUrl: string, forMs: number): Promise<Figures> {
  const stopped = Date.now();
  const stops = await Promise.all(replicas.map((r) => r.program.stop()));
  const drainMs = Math.max(...stops.map((s) => s.ms));
  const fired = await poll('SendonceNoWorkerUp firing', forMs + 90_000, async () => (await alertState(prometheusUrl, 'SendonceNoWorkerUp')) === 'firing', 500);
  const firedAfterMs = Date.now() - stopped;
  const restarted = Date.now();
  for (const r of replicas) r.program.start();
  await poll('replicas healthy again', 60_000, async () => (await Promise.all(replicas.map((r) => replicaHealthy(ctx, r)))).every(Boolean));
  const healthyMs = Date.now() - restarted;
  await poll('SendonceNoWorkerUp resolved', 90_000, async () => (await alertState(prometheusUrl, 'SendonceNoWorkerUp')) === 'inactive', 500);
  return { stopExitCodes: stops.map((s) => s.code).join(','), drainMs, fired, firedAfterMs, healthyAfterRestartMs: healthyMs, resolvedAfterRestartMs: Date.now() - restarted };
}

/** Postgres stopped (fast shutdown, as `docker compose restart postgres`) and started again: workers ready again. */
export async function postgresRestart(ctx: Context, pg: RestartablePostgres, replicas: Replica[]): Promise<Figures> {
  const restartsBefore = replicas.map((r) => r.program.restarts());
  await pg.stop();
  const down = Date.now();
  await poll('a replica reports not ready while Postgres is down', 30_000, async () => !(await replicaHealthy(ctx, replicas[0]!)));
  const notReadyMs = Date.now() - down;
  await sleep(3_000);
  await pg.start();
  const up = Date.now();
  await poll('every replica ready after the Postgres restart', 90_000, async () => (await Promise.all(replicas.map((r) => replicaHealthy(ctx, r)))).every(Boolean));
  return {
    notReadyAfterMs: notReadyMs,
    readyAfterRestartMs: Date.now() - up,
    workerRestarts: replicas.map((r, i) => r.program.restarts() - restartsBefore[i]!).join(','),
  };
}

/** Prometheus scrapes every job of its file with every target up, including the Temporal server and worker-next. */
export async function scrapesWhatComposeScrapes(prometheusUrl: string, jobs: string[], temporalMetricsPort: number | undefined, configText: string, notYetRunning: number[]): Promise<Figures> {
  // worker-next (a profile service) only runs during a release: its target may be down until then.
  const expectedUp = (x: { labels: { instance?: string } }) => !notYetRunning.some((p) => x.labels.instance === `127.0.0.1:${p}`);
  const ts = await poll('every scrape target up', 60_000, async () => {
    const t = (await targets(prometheusUrl)).filter(expectedUp);
    return t.length > 0 && t.every((x) => x.health === 'up') ? t : undefined;
  }, 1_000);
  const problems: string[] = [];
  if (!/names:\s*\[[^\]]*worker-next/.test(configText)) problems.push('deploy/prometheus/prometheus.yml does not scrape worker-next (a release loses the new version\'s metrics)');
  if (temporalMetricsPort === undefined) problems.push('the temporal service exposes no PROMETHEUS_ENDPOINT');
  else if (!ts.some((t) => t.labels.instance === `127.0.0.1:${temporalMetricsPort}`)) problems.push('Prometheus does not scrape the Temporal server\'s metrics');
  if (problems.length) throw new Error(problems.join('; '));
  return { jobs: jobs.join(','), targetsUp: ts.length };
}

export function readLog(ctx: Context, name: string): string {
  const f = path.join(ctx.runDir, `logs/${name}.log`);
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
}

