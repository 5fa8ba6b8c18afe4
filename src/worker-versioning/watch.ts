/**
 * Is this worker's version the deployment's current one? New ticks go to the current version only. When no running
 * worker serves it — a release whose new workers replaced the old ones without `sendonce deploy promote`, or a first
 * deploy under DEPLOY_PROMOTE=never — every tick waits on the task queue while each worker is up, ready and polling
 * for its own, non-current version: nothing else looks wrong. Every worker exports `sendonce_worker_version_current`
 * (1 or 0); SendonceCurrentVersionNoPollers fires when the maximum over the workers Prometheus still scrapes is 0.
 * (Why not count the current version's pollers with DescribeTaskQueue: versioned pollers poll their version's own
 * queue, which that call does not list — npm run rehearse saw 0 for every version while workers ran.)
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '../logger';
import { startRounds, type Rounds } from '../rounds';
import { describeDeployment } from './deployments';
import type { VersioningSettings } from './options';

export interface DeploymentWatchDeps {
  client: Client;
  logger: Logger;
  versioning: VersioningSettings;
  report(deploymentName: string, current: boolean): void;
}

/** Every `intervalMs`: export whether this worker's version is current, and log each change. */
export function startDeploymentWatch(deps: DeploymentWatchDeps, intervalMs: number): Rounds {
  const { deploymentName, buildId } = deps.versioning;
  let was: boolean | undefined;
  return startRounds(
    intervalMs,
    async () => {
      const currentBuildId = (await describeDeployment(deps.client, deploymentName))?.currentBuildId ?? null;
      const current = currentBuildId === buildId;
      deps.report(deploymentName, current);
      if (was !== undefined && was !== current) {
        deps.logger.warn({ deploymentName, buildId, currentBuildId }, current ? 'worker_version_became_current' : 'worker_version_no_longer_current: new runs go to the current version; this worker finishes the runs pinned to its own');
      }
      was = current;
    },
    { logger: deps.logger, event: 'deployment_watch_round_failed' },
  );
}
