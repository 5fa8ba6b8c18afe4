/**
 * A release, step by step (docs/safe-deploys.md): start the new version's workers next to the old
 * ones, `promote` it (new ticks go to it; runs in flight stay pinned to the old version), wait until `status`
 * shows the old version drained (no open runs), stop its workers. `rollback` makes the previous version current
 * again — its workers must still be running.
 */
import type { Client } from '@temporalio/client';
import { describeDeployment, setCurrentVersion, type DeploymentStatus } from '../worker-versioning';
import { NotFoundError } from '../errors';

export interface DeployStatus extends DeploymentStatus {
  /** Runs still open per build id (their workers must keep running until this is 0). */
  openRuns: Record<string, number>;
}

export async function deployStatus(client: Client, deploymentName: string): Promise<DeployStatus> {
  const d = await describeDeployment(client, deploymentName);
  if (!d) throw new NotFoundError(`no worker deployment '${deploymentName}' yet: start a worker with WORKER_VERSIONING on (DEPLOYMENT_NAME=${deploymentName})`);
  const openRuns: Record<string, number> = {};
  for (const v of d.versions) {
    // The search attribute joins deployment and build with ':' (the server here, 1.29); the version string the API
    // shows, and older servers' attribute, with '.'. Counting with '.' alone finds 0 open runs on this server while
    // runs are open, and `status` would say an old version had drained too early.
    const query =
      `(TemporalWorkerDeploymentVersion = "${deploymentName}:${v.buildId}" OR TemporalWorkerDeploymentVersion = "${deploymentName}.${v.buildId}")` +
      ' AND ExecutionStatus = "Running"';
    openRuns[v.buildId] = (await client.workflow.count(query)).count;
  }
  return { ...d, openRuns };
}

/** Make `buildId` (default: the newest version that is not current) the one new runs go to. */
export async function promoteVersion(client: Client, deploymentName: string, buildId?: string): Promise<{ current: string; previous: string | null }> {
  const d = await describeDeployment(client, deploymentName);
  if (!d) throw new NotFoundError(`no worker deployment '${deploymentName}' yet`);
  const target = buildId ?? d.versions.find((v) => v.buildId !== d.currentBuildId)?.buildId;
  if (!target) throw new NotFoundError(`deployment '${deploymentName}' has no version besides the current one (${d.currentBuildId}): start the new version's workers first`);
  if (!d.versions.some((v) => v.buildId === target)) {
    throw new NotFoundError(`deployment '${deploymentName}' has no version '${target}' (versions: ${d.versions.map((v) => v.buildId).join(', ')}): its workers must have started`);
  }
  return { current: target, previous: await setCurrentWhenReady(client, deploymentName, target) };
}

/**
 * The server refuses a current version that does not poll every task queue of the current one (its runs there would
 * go unversioned). A worker that just started registers its queues one poller at a time, so wait a little before
 * saying so.
 */
async function setCurrentWhenReady(client: Client, deploymentName: string, buildId: string, waitMs = 15_000): Promise<string | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await setCurrentVersion(client, deploymentName, buildId, 'sendonce deploy promote');
    } catch (err) {
      if (!/missing active task queues/.test((err as Error).message)) throw err;
      if (Date.now() > deadline) {
        throw new NotFoundError(`version '${buildId}' does not poll every task queue of the current version (${(err as Error).message.replace(/^\d+ \w+: /, '')}): are all its workers up?`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Make the version that was current before (default: the newest draining or drained one) current again. */
export async function rollbackVersion(client: Client, deploymentName: string, to?: string): Promise<{ current: string; previous: string | null }> {
  const d = await describeDeployment(client, deploymentName);
  if (!d) throw new NotFoundError(`no worker deployment '${deploymentName}' yet`);
  const target = to ?? d.versions.find((v) => v.status === 'draining' || v.status === 'drained')?.buildId;
  if (!target) throw new NotFoundError(`deployment '${deploymentName}' has no earlier version to roll back to (versions: ${d.versions.map((v) => `${v.buildId} ${v.status}`).join(', ')})`);
  return promoteVersion(client, deploymentName, target);
}
