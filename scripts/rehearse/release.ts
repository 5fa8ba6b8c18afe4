/**
 * Releases on the rehearsed topology, done the way docs/safe-deploys.md ("With compose") tells a team to:
 *
 *  - `releaseWhileRunInFlight`: v1 → v2 with a changed workflow while a weekly-report run (the jobs module built
 *    into the image) is sending: build the next image, start `worker-next`, `deploy promote`, wait for `deploy
 *    status` to show v1 drained, move `worker` to the next image, stop `worker-next`. The run in flight must end
 *    on v1, new runs must start on v2, every recipient must get exactly one message, and ticks must keep running.
 *  - `unpromotedReleaseAlerts`: the stall a release can cause — every replica recreated on a new version
 *    (`docker compose up --build -d`) and nobody promoting it: the replicas are healthy and polling, the current
 *    version has no poller, and SendonceCurrentVersionNoPollers must fire in the real Prometheus; `deploy promote`
 *    resolves it and ticks run again.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import type { MailInboxHandle } from '../../devkit/services/mail-inbox';
import { ONE_MORE_ACTIVITY_PER_PAGE, writeVariantBundle, type SourcePatch } from '../../devkit/variant-bundle';
import type { DeployStatus } from '../../src/api';
import { alertState } from './prometheus';
import { sendonceCli, type Figures } from './scenarios';
import { poll, replicaHealthy, sinkMessages, startReplica, type Context, type Replica } from './stack';

/** `docker build -t sendonce-worker:next .` after a workflow change: the same /app with the changed bundle. */
export async function buildNextImage(ctx: Context, name: string, patches: readonly SourcePatch[]): Promise<string> {
  const dir = path.join(ctx.runDir, name);
  execFileSync('cp', ['-al', ctx.appDir, dir]); // hard links: the same files, no second copy of node_modules
  const bundle = path.join(dir, 'dist/workflow-bundle.js');
  fs.unlinkSync(bundle); // a new file, not a write through the link into the current image's bundle
  await writeVariantBundle(bundle, patches);
  return dir;
}

/** v2: one more activity per page; v3: the same and one more line (another bundle hash, another version). */
export const V2_PATCHES = [ONE_MORE_ACTIVITY_PER_PAGE];
export const V3_PATCHES = [{ ...ONE_MORE_ACTIVITY_PER_PAGE, replace: `${ONE_MORE_ACTIVITY_PER_PAGE.replace}    // release 3\n` }];

async function cli(ctx: Context, replica: Replica, args: string[]): Promise<string> {
  const r = await sendonceCli(ctx, replica, args);
  if (r.code !== 0) throw new Error(`sendonce ${args.join(' ')} exited ${r.code}: ${r.output.slice(-800)}`);
  return r.output;
}

const status = async (ctx: Context, replica: Replica) => JSON.parse(await cli(ctx, replica, ['deploy', 'status', '--json'])) as DeployStatus;

async function temporalClient(ctx: Context): Promise<Client> {
  const connection = await Connection.connect({ address: `127.0.0.1:${ctx.endpoints.port('temporal', 7233)}` });
  return new Client({ connection, namespace: 'default' });
}

const buildOf = async (client: Client, workflowId: string) =>
  (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? 'unversioned';

/** The application's own table the example job reads (examples/weekly-report.ts), with `n` people in it: in public, named in full (for a role named sendonce, "$user" in the default search_path is sendonce's own schema). */
async function seedApplicationUsers(databaseUrl: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS public.users (
      id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL, digest_opt_in boolean NOT NULL DEFAULT true)`);
    await client.query(`INSERT INTO public.users (email, name) SELECT 'release-' || i || '@example.test', 'Person ' || i FROM generate_series(1, $1) i`, [n]);
  } finally {
    await client.end();
  }
}

/** `sendonce email schedule` one notice due now, and wait until the scheduled-notices tick delivered it. */
async function oneTickDelivers(ctx: Context, replica: Replica, inbox: MailInboxHandle, tag: string): Promise<number> {
  const started = Date.now();
  await cli(ctx, replica, ['email', 'schedule', '--to', `${tag}@example.test`, '--at', new Date().toISOString(), '--values', JSON.stringify({ subject: tag, body: tag })]);
  await poll(`the notice '${tag}' delivered by the next scheduled tick`, 150_000, async () => (await sinkMessages(inbox)).some((m) => m.subject === tag), 1_000);
  return Date.now() - started;
}

export interface ReleaseResult {
  figures: Figures;
  /** The `worker` replicas, now on the next image. */
  replicas: Replica[];
}

export async function releaseWhileRunInFlight(ctx: Context, replicas: Replica[], inbox: MailInboxHandle, recipients: number): Promise<ReleaseResult> {
  const figures: Figures = { recipients };
  const client = await temporalClient(ctx);
  try {
    const v1 = replicas[0]!;
    await seedApplicationUsers(v1.env.DATABASE_URL!, recipients);
    const before = (await status(ctx, v1)).currentBuildId!;
    const triggered = await cli(ctx, v1, ['schedule', 'trigger', '--job', 'weekly-report']);
    const workflowId = /^started (\S+)/m.exec(triggered)?.[1];
    if (!workflowId) throw new Error(`the weekly-report trigger started no run: ${triggered.trim()}`);
    const reports = async () => (await sinkMessages(inbox)).filter((m) => m.subject.startsWith('Your week in review'));
    await poll('the weekly-report run sending', 60_000, async () => (await reports()).length > 0, 200);

    // 1. docker build -t sendonce-worker:next . ; docker compose --profile release up -d worker-next
    const t0 = Date.now();
    const nextApp = await buildNextImage(ctx, 'app-next', V2_PATCHES);
    const next = await startReplica(ctx, 'worker-next', 'worker-next-1', {}, { appDir: nextApp });
    await poll('worker-next healthy', 90_000, () => replicaHealthy(ctx, next), 500);
    figures.nextUpMs = Date.now() - t0;
    const joined = await poll('worker-next joined the deployment', 30_000, async () => {
      const s = await status(ctx, next);
      return s.versions.length >= 2 ? s : undefined;
    });
    const v2 = joined.versions.find((v) => v.buildId !== before)!.buildId;
    if (joined.currentBuildId !== before) throw new Error(`worker-next made itself current (${joined.currentBuildId}) before anyone promoted it`);
    // 2. docker compose exec worker-next node bin/sendonce.js deploy promote
    await cli(ctx, next, ['deploy', 'promote']);
    const promotedAt = Date.now();
    figures.sentBeforePromote = (await reports()).length;
    const runOpen = (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    if (!runOpen || figures.sentBeforePromote >= recipients) throw new Error(`the weekly-report run ended before the promotion (${figures.sentBeforePromote}/${recipients} sent): nothing was in flight — seed more recipients`);
    // New ticks go to v2 at once (the one-off notices job ticks every minute) while v1 finishes its run.
    figures.newTickOnV2Ms = await oneTickDelivers(ctx, next, inbox, 'after-promote');
    const onV2 = (await client.workflow.count(`TemporalWorkerDeploymentVersion = "${joined.deploymentName}:${v2}" AND StartTime > "${new Date(promotedAt).toISOString()}"`)).count;
    // 3. docker compose exec worker-next node bin/sendonce.js deploy status   (until the old version has 0 open runs)
    const drained = await poll('deploy status: v1 drained (0 open runs)', 600_000, async () => {
      const s = await status(ctx, next);
      return (s.openRuns[before] ?? 0) === 0 ? s : undefined;
    }, 2_000);
    figures.drainedAfterPromoteMs = Date.now() - promotedAt;
    const summary = (await client.workflow.getHandle(workflowId).result()) as { outcome: string; counts: { sent: number } };
    figures.runOutcome = summary.outcome;
    figures.runBuildId = await buildOf(client, workflowId);
    if (figures.runBuildId !== before) throw new Error(`the run in flight ended on ${figures.runBuildId}, not on ${before} that started it`);
    if (summary.outcome !== 'completed') throw new Error(`the run in flight ended ${summary.outcome}`);
    // 4. docker tag sendonce-worker:next sendonce-worker:local && docker compose up -d worker
    const moved: Replica[] = [];
    for (const r of replicas) {
      await r.program.stop();
      moved.push(await startReplica(ctx, 'worker', r.name, {}, { appDir: nextApp }));
    }
    await poll('worker replicas healthy on the next image', 90_000, async () => (await Promise.all(moved.map((r) => replicaHealthy(ctx, r)))).every(Boolean), 500);
    // 5. docker compose --profile release stop worker-next
    await next.program.stop();
    const after = await status(ctx, moved[0]!);
    figures.newTickAfterReleaseMs = await oneTickDelivers(ctx, moved[0]!, inbox, 'after-release');

    const sent = await reports();
    const addresses = new Set(sent.map((m) => m.to[0]?.address));
    Object.assign(figures, {
      v1: before, v2, runsStartedOnV2: onV2, delivered: sent.length, duplicates: sent.length - addresses.size,
      summarySent: summary.counts.sent, v1OpenRunsAtEnd: drained.openRuns[before] ?? 0, currentAfter: after.currentBuildId ?? 'none',
    });
    if (sent.length !== recipients || addresses.size !== recipients) throw new Error(`${recipients} recipients, ${sent.length} messages to ${addresses.size} addresses at the sink`);
    if (summary.counts.sent !== recipients) throw new Error(`the run's summary says ${summary.counts.sent} sent, the sink has ${recipients}`);
    if (onV2 < 1) throw new Error('no run started on v2 after the promotion');
    if (after.currentBuildId !== v2) throw new Error(`after the release the current version is ${after.currentBuildId}, not ${v2}`);
    return { figures, replicas: moved };
  } finally {
    await client.connection.close();
  }
}

export async function unpromotedReleaseAlerts(ctx: Context, replicas: Replica[], inbox: MailInboxHandle, prometheusUrl: string): Promise<ReleaseResult> {
  const figures: Figures = {};
  const before = (await status(ctx, replicas[0]!)).currentBuildId!;
  // docker compose up --build -d, with a workflow change and nothing else: every replica recreated on v3.
  const v3App = await buildNextImage(ctx, 'app-v3', V3_PATCHES);
  const recreated: Replica[] = [];
  const stoppedAt = Date.now();
  for (const r of replicas) {
    await r.program.stop();
    recreated.push(await startReplica(ctx, 'worker', r.name, {}, { appDir: v3App }));
  }
  await poll('recreated replicas healthy', 90_000, async () => (await Promise.all(recreated.map((r) => replicaHealthy(ctx, r)))).every(Boolean), 500);
  figures.replicasReadyMs = Date.now() - stoppedAt;
  const stalled = await status(ctx, recreated[0]!);
  const v3 = stalled.versions.find((v) => v.buildId !== before && v.status !== 'draining' && v.status !== 'drained')?.buildId;
  if (stalled.currentBuildId !== before) throw new Error(`the recreated replicas made ${stalled.currentBuildId} current by themselves`);
  await poll('SendonceCurrentVersionNoPollers firing', 300_000, async () => (await alertState(prometheusUrl, 'SendonceCurrentVersionNoPollers')) === 'firing', 1_000);
  figures.firedAfterMs = Date.now() - stoppedAt;
  figures.logged = recreated.every((r) => fs.readFileSync(r.program.spec.logFile, 'utf8').includes('worker_version_not_current'));
  // The fix the alert names: promote the version whose workers run.
  await cli(ctx, recreated[0]!, ['deploy', 'promote']);
  const promotedAt = Date.now();
  figures.tickAfterPromoteMs = await oneTickDelivers(ctx, recreated[0]!, inbox, 'after-v3-promote');
  await poll('SendonceCurrentVersionNoPollers resolved', 300_000, async () => (await alertState(prometheusUrl, 'SendonceCurrentVersionNoPollers')) === 'inactive', 1_000);
  figures.resolvedAfterPromoteMs = Date.now() - promotedAt;
  figures.v3 = v3 ?? 'unknown';
  if (!figures.logged) throw new Error('a recreated replica did not log worker_version_not_current');
  return { figures, replicas: recreated };
}
