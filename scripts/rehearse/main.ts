/**
 * `npm run rehearse`: the compose topology of docker-compose.yml, brought up natively service by service in its
 * dependency order, with commands, environment and configuration read from docker-compose.yml, the Dockerfile and
 * deploy/ — so a change there is what runs, and drift fails — then the production scenarios asserted on it.
 *
 *   postgres → temporal-schema (deploy/temporal/setup-postgres.sh) → temporal (server binary, dynamicconfig,
 *   Postgres persistence) → temporal-namespace (create-namespace.sh) → redis, mail → worker ×replicas (the image's
 *   /app: build output, production dependencies, the image's Node, PID 1 in its own PID namespace) → schedules →
 *   prometheus (deploy/prometheus, targets rewritten to loopback)
 *
 * Everything listens on 127.0.0.1; everything started is stopped at the end, also when a step fails half-way or
 * on Ctrl-C. Logs and the summary (summary.json) stay in the run directory printed at the end.
 * Flags: --real-alert-timing (Prometheus intervals and `for:` as in the files; ~3 minutes longer), --keep (leave the
 * run directory).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { durationMs, loadCompose, loadImageRuntime, ROOT, service } from './compose';
import { Endpoints } from './endpoints';
import { startPrometheus } from './prometheus';
import * as release from './release';
import * as scenario from './scenarios';
import type { Figures } from './scenarios';
import * as stack from './stack';
import { buildImageApp, imageNode, temporalCli, temporalServerDir } from './tools';

const args = new Set(process.argv.slice(2));
const TIME_SCALE = args.has('--real-alert-timing') ? 1 : 10;
/** The jobs module the rehearsal builds into the image, as docs/deploying.md shows. */
const REHEARSAL_JOBS_MODULE = 'examples/weekly-report.ts';
/** Enough that the weekly-report run is still sending while the next version starts and is promoted (~10 s). */
const RELEASE_RECIPIENTS = 3_000;

interface StepResult { name: string; ms: number; ok: boolean; note?: string }
const results: StepResult[] = [];
const figures: Record<string, Figures> = {};

async function step<T>(name: string, fn: () => Promise<T> | T, note?: (v: T) => string | undefined): Promise<T> {
  const started = Date.now();
  process.stdout.write(`[rehearse] ${name} …\n`);
  try {
    const value = await fn();
    const ms = Date.now() - started;
    const n = note?.(value);
    results.push({ name, ms, ok: true, ...(n ? { note: n } : {}) });
    process.stdout.write(`[rehearse] ${name}: ok in ${(ms / 1000).toFixed(1)} s${n ? ` (${n})` : ''}\n`);
    return value;
  } catch (err) {
    results.push({ name, ms: Date.now() - started, ok: false, note: (err as Error).message });
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

async function scenarioStep(name: string, fn: () => Promise<Figures>): Promise<void> {
  const f = await step(`scenario: ${name}`, fn, (v) => Object.entries(v).map(([k, x]) => `${k}=${x}`).join(' '));
  figures[name] = f;
}

async function main(): Promise<number> {
  const compose = loadCompose();
  // The image as a team builds it with its own jobs module (docker-compose.yml's build args, .env's JOBS_MODULE):
  // the example module, which keeps the built-in one-off notices and adds weekly-report (the release's run).
  const buildArgs = { JOBS_MODULE: REHEARSAL_JOBS_MODULE };
  const composeArgs = Object.keys(service(compose, 'worker').build?.args ?? {});
  if (!composeArgs.includes('JOBS_MODULE')) throw new Error('docker-compose.yml no longer passes JOBS_MODULE to the worker build');
  const image = loadImageRuntime(buildArgs);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-rehearse-'));
  fs.chmodSync(runDir, 0o755); // readable by the image's user; writable by root only (the worker writes nothing)
  fs.mkdirSync(path.join(runDir, 'logs'));
  const ctx: stack.Context = {
    compose,
    image,
    runDir,
    endpoints: new Endpoints(Object.keys(compose.services)),
    gaps: new Set([
      'the container engine itself: images, layers, the compose network and DNS, named volumes, healthcheck-gated `depends_on` (followed here in order), `docker compose up --build`',
      'the image\'s root filesystem: the worker runs as the image\'s USER (uid 1000) with the code and its home owned by root, so it cannot write there, but the rest of this machine\'s filesystem is not read-only as in a container with a read-only root (Kubernetes: readOnlyRootFilesystem)',
      'temporal-ui and grafana are not started (no native UI server / Grafana binary here); their configuration is checked by test/unit',
    ]),
    stops: [],
    serverDir: '',
    temporalCli: temporalCli(),
    imageNode: '',
    appDir: path.join(runDir, 'app'),
  };
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of [...ctx.stops].reverse()) {
      const started = Date.now();
      await Promise.resolve(s.stop()).catch((err: Error) => process.stderr.write(`[rehearse] stopping ${s.name}: ${err.message}\n`));
      process.stdout.write(`[rehearse] stopped ${s.name} in ${Date.now() - started} ms\n`);
    }
  };
  const onSignal = () => {
    process.stderr.write('[rehearse] interrupted: stopping everything\n');
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failure: Error | undefined;
  try {
    await step('tools: Temporal server build, Node of the image, CLI', () => {
      const t = temporalServerDir(compose);
      const n = imageNode(image.nodeTag);
      ctx.serverDir = t.dir;
      // A hard link in the run directory: the image's user (not root) runs it, and the cache is in root's home.
      ctx.imageNode = path.join(runDir, 'node/bin/node');
      fs.mkdirSync(path.dirname(ctx.imageNode), { recursive: true });
      fs.linkSync(n.node, ctx.imageNode);
      return { server: t.version, node: n.version };
    }, (v) => `temporal server ${v.server}, node ${v.node} (image tag node:${image.nodeTag}; this machine ${process.version})`);
    await step('image /app: deploy/build.sh + production dependencies only', () => buildImageApp(ctx.appDir, image.buildArgs), (v) => (v.cached ? 'production node_modules cached' : 'production node_modules installed'));

    const pg = await step('postgres', () => stack.startPostgres(ctx));
    await step('postgres health check', () => stack.waitHealthy(ctx, 'postgres', { 5432: pg.port }, { PGPORT: String(pg.port) }, 20_000));
    await step('temporal-schema one-shot (setup-postgres.sh)', () => stack.runTemporalSchema(ctx));
    const temporal = await step('temporal server', () => stack.startTemporal(ctx));
    const ns = await step('temporal-namespace one-shot (create-namespace.sh)', () => stack.runTemporalNamespace(ctx));
    fs.writeFileSync(path.join(runDir, 'logs/temporal-namespace.log'), ns.output);
    if (ns.code !== 0) throw new Error(`temporal-namespace exited ${ns.code}: ${ns.output.slice(-1500)}`);
    await step('redis', () => stack.startRedis(ctx));
    const inbox = await step('mail', () => stack.startMail(ctx));

    const worker = service(compose, 'worker');
    const count = worker.deploy?.replicas ?? 1;
    const replicas = await step(`worker ×${count} (image CMD, NODE_ENV=${image.env.NODE_ENV}, PID 1${worker.init ? ' under init' : ''})`, async () => {
      const rs: stack.Replica[] = [];
      for (let i = 1; i <= count; i++) rs.push(await stack.startReplica(ctx, 'worker', `worker-${i}`));
      await stack.poll('every worker replica healthy (its compose health check)', 90_000, async () => {
        for (const r of rs) {
          // A replica that exited during start-up is in a crash loop (its restart policy starts it again).
          if (r.program.restarts() >= 1) {
            throw new stack.StopPolling(`${r.name} exited ${r.program.lastExit() ?? ''} and was restarted by its policy (a crash loop): ${scenario.readLog(ctx, r.name).split('\n').filter((l) => l.includes('sendonce worker:') || l.includes('"level":50')).slice(-1)[0] ?? ''}`);
          }
        }
        return (await Promise.all(rs.map((r) => stack.replicaHealthy(ctx, r)))).every(Boolean);
      }, 500).catch((err: Error) => {
        const logs = rs.map((r) => `--- ${r.name}\n${scenario.readLog(ctx, r.name).split('\n').slice(-6).join('\n')}`).join('\n');
        throw new Error(`${err.message}\n${logs}`);
      });
      // As the image's USER: the uid the kernel reports for each replica's PID 1.
      const uids = rs.map((r) => /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${r.program.pid()}/status`, 'utf8'))?.[1]);
      const expected = String(process.getuid?.() === 0 ? image.user?.uid ?? 0 : process.getuid?.());
      if (uids.some((u) => u !== expected)) throw new Error(`worker replicas run as uid ${uids.join(',')}, the image's USER is uid ${expected}`);
      return rs;
    }, () => `uid ${image.user?.uid ?? 0} (the image's USER)`);

    const schedules = service(compose, 'schedules');
    await step('schedules one-shot', async () => {
      const { env } = await stack.imageEnvironment(ctx, 'schedules', 'schedules');
      const r = await stack.runOnce(stack_command(schedules.command), env, ctx.appDir, 60_000);
      fs.writeFileSync(path.join(runDir, 'logs/schedules.log'), r.output);
      if (r.code !== 0) throw new Error(`exited ${r.code}: ${r.output}`);
      return r.output.trim().split('\n').length;
    }, (n) => `${n} schedules up to date`);

    const temporalMetrics = (() => {
      try {
        return ctx.endpoints.port('temporal', Number(stack_temporalMetricsPort(compose)));
      } catch {
        return undefined;
      }
    })();
    // worker-next runs only during the release scenario; its port is known now, as Prometheus' targets are fixed.
    const replicaPorts: Record<string, number[]> = { worker: replicas.map((r) => r.metricsPort), 'worker-next': [await ctx.endpoints.add('worker-next-1', 9464)] };
    const prom = await step('prometheus', () => startPrometheus(ctx, (svc) => {
      if (!(svc in replicaPorts)) throw new Error(`prometheus.yml discovers '${svc}', which the rehearsal does not run`);
      return replicaPorts[svc]!;
    }, TIME_SCALE));

    // --- scenarios, in order -----------------------------------------------------------------------------------
    await scenarioStep('Prometheus scrapes what compose scrapes', () =>
      scenario.scrapesWhatComposeScrapes(prom.url, prom.jobs, temporalMetrics, fs.readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'), replicaPorts['worker-next']!));
    await scenarioStep('the first scheduled tick delivers', () => scenario.firstTickDelivers(ctx, replicas[0]!, inbox, 3));
    await scenarioStep('SIGTERM during start-up exits within 5 s', () => scenario.sigtermDuringStartup(ctx));
    await scenarioStep('a fatal configuration error exits non-zero', () => scenario.fatalConfigExitsNonZero(ctx));
    const forMs = durationMs('2m') / TIME_SCALE;
    await scenarioStep('a stopped worker fires SendonceNoWorkerUp, a restart resolves it', () => scenario.noWorkerUpAlert(ctx, replicas, prom.url, forMs));
    await scenarioStep('workers come back after a Postgres restart', () => scenario.postgresRestart(ctx, pg, replicas));
    let current = replicas;
    await scenarioStep('a release v1 → v2 with a run in flight, as docs/safe-deploys.md says', async () => {
      const r = await release.releaseWhileRunInFlight(ctx, current, inbox, RELEASE_RECIPIENTS);
      current = r.replicas;
      return r.figures;
    });
    await scenarioStep('a version nobody promoted: the current one has no pollers, and it alerts', async () => {
      const r = await release.unpromotedReleaseAlerts(ctx, current, inbox, prom.url);
      current = r.replicas;
      return r.figures;
    });
    if (!temporal.running()) throw new Error('the Temporal server exited during the rehearsal');
  } catch (err) {
    failure = err as Error;
  } finally {
    process.stdout.write('[rehearse] stopping everything\n');
    await stopAll();
  }

  const summary = { ok: !failure, failure: failure?.message, timeScale: TIME_SCALE, steps: results, figures, gaps: [...ctx.gaps], runDir };
  fs.writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
  process.stdout.write('\n[rehearse] what could not be reproduced without a container engine (listed, not faked):\n');
  for (const g of ctx.gaps) process.stdout.write(`  - ${g}\n`);
  process.stdout.write('\n[rehearse] steps:\n');
  for (const r of results) process.stdout.write(`  ${r.ok ? 'ok  ' : 'FAIL'} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.name}${r.note && !r.ok ? `: ${r.note}` : ''}\n`);
  process.stdout.write(`\n[rehearse] logs and summary.json: ${runDir}\n`);
  if (failure) {
    process.stderr.write(`\n[rehearse] FAILED: ${failure.message}\n`);
    return 1;
  }
  // A pass keeps the logs and summary.json only (the data directories are ~100 MB per run); --keep keeps all.
  if (!args.has('--keep')) for (const dir of ['app', 'postgres', 'prometheus', 'mail', 'temporal']) fs.rmSync(path.join(runDir, dir), { recursive: true, force: true });
  process.stdout.write('[rehearse] passed\n');
  return 0;
}

const stack_command = (c: string[] | string | undefined): string[] => (Array.isArray(c) ? c : c ? ['/bin/sh', '-c', c] : []);
const stack_temporalMetricsPort = (compose: ReturnType<typeof loadCompose>) => service(compose, 'temporal').environment?.PROMETHEUS_ENDPOINT?.toString().split(':').at(-1);

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[rehearse] ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
