/**
 * Reading and steering a Worker Deployment through Temporal's API (the same calls as `temporal worker deployment
 * describe | set-current-version`): which version is current, which are draining or drained, promote a version,
 * roll back to the previous one.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const STATUS = temporal.api.enums.v1.WorkerDeploymentVersionStatus;

export type VersionStatus = 'current' | 'ramping' | 'draining' | 'drained' | 'inactive' | 'unknown';

export interface DeploymentVersionInfo {
  buildId: string;
  status: VersionStatus;
  createdAt: string | null;
}

export interface DeploymentStatus {
  deploymentName: string;
  /** null: new workflows go to unversioned workers (no version was ever made current). */
  currentBuildId: string | null;
  rampingBuildId: string | null;
  /** Newest first. */
  versions: DeploymentVersionInfo[];
}

const UNVERSIONED = '__unversioned__';
const statusOf = (s: number | null | undefined): VersionStatus =>
  (({
    [STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT]: 'current',
    [STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING]: 'ramping',
    [STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING]: 'draining',
    [STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED]: 'drained',
    [STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE]: 'inactive',
  }) as Record<number, VersionStatus>)[s ?? 0] ?? 'unknown';

const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t?.seconds ? new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString() : null;

/** The deployment as the server sees it; null when no worker of it has polled yet. */
export async function describeDeployment(client: Client, deploymentName: string): Promise<DeploymentStatus | null> {
  let info;
  try {
    ({ workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName }));
  } catch (err) {
    if ((err as { code?: number }).code === 5 /* NOT_FOUND */) return null;
    throw err;
  }
  const routing = info?.routingConfig;
  const buildIdOf = (v: { buildId?: string | null } | null | undefined, s: string | null | undefined) =>
    v?.buildId ?? (s && s !== UNVERSIONED ? s.slice(s.indexOf('.') + 1) : null);
  const versions = (info?.versionSummaries ?? [])
    .map((v) => ({ buildId: v.deploymentVersion?.buildId ?? '', status: statusOf(v.status), createdAt: seconds(v.createTime) }))
    .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  return {
    deploymentName,
    currentBuildId: buildIdOf(routing?.currentDeploymentVersion, routing?.currentVersion),
    rampingBuildId: buildIdOf(routing?.rampingDeploymentVersion, routing?.rampingVersion),
    versions,
  };
}

/** Make `buildId` the version new workflows go to; returns the one that was current before (null: unversioned). */
export async function setCurrentVersion(client: Client, deploymentName: string, buildId: string, identity = 'sendonce'): Promise<string | null> {
  const res = await client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: client.options.namespace, deploymentName, buildId, identity });
  const previous = res.previousDeploymentVersion?.buildId ?? res.previousVersion ?? null;
  return previous && previous !== UNVERSIONED ? previous.slice(previous.indexOf('.') + 1) : null;
}
