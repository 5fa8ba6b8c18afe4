/**
 * Does anyone serve the deployment's current version? New ticks go to the current version only; when none of its
 * workers polls (a release whose new workers joined as a version nobody promoted, then the old workers stopped —
 * or the first deploy under DEPLOY_PROMOTE=never), every tick waits on the task queue and nothing else looks wrong:
 * each worker is up, ready and polling — for its own, non-current version. Every worker watches this and exports
 * it (`sendonce_deployment_current_version_pollers`), and the alert SendonceCurrentVersionNoPollers fires on 0.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../logger';
import { startRounds, type Rounds } from '../rounds';
import { describeDeployment } from './deployments';

/**
 * A poller counts while its last poll is this recent. The server lists pollers seen in the last few minutes; a
 * live worker starts a new long poll at least every ~70 s (the poll timeout), also on an idle queue.
 */
export const POLLER_FRESH_MS = 90_000;

export interface CurrentVersionPollers {
  /** null: no version is current (new runs would go to unversioned workers, and a versioned worker never takes them). */
  currentBuildId: string | null;
  /** Workflow-task pollers of the current version on the task queue, seen within POLLER_FRESH_MS. */
  pollers: number;
  /** Fresh pollers per build id, the current one included (for `sendonce deploy status`). */
  byBuildId: Record<string, number>;
}

export async function currentVersionPollers(client: Client, deploymentName: string, taskQueue: string, now = Date.now()): Promise<CurrentVersionPollers> {
  const deployment = await describeDeployment(client, deploymentName);
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const byBuildId: Record<string, number> = {};
  for (const p of pollers ?? []) {
    const seenMs = Number(p.lastAccessTime?.seconds ?? 0) * 1000;
    const options = p.deploymentOptions;
    if (now - seenMs > POLLER_FRESH_MS || !options?.buildId || options.deploymentName !== deploymentName) continue;
    byBuildId[options.buildId] = (byBuildId[options.buildId] ?? 0) + 1;
  }
  const currentBuildId = deployment?.currentBuildId ?? null;
  return { currentBuildId, pollers: currentBuildId ? (byBuildId[currentBuildId] ?? 0) : 0, byBuildId };
}

export interface DeploymentWatchDeps {
  client: Client;
  logger: Logger;
  deploymentName: string;
  taskQueue: string;
  report(deploymentName: string, pollers: number): void;
}

/** Every `intervalMs`: export the current version's pollers, and log once each time it goes to 0 and back. */
export function startDeploymentWatch(deps: DeploymentWatchDeps, intervalMs: number): Rounds {
  let unserved = false;
  return startRounds(
    intervalMs,
    async () => {
      const seen = await currentVersionPollers(deps.client, deps.deploymentName, deps.taskQueue);
      deps.report(deps.deploymentName, seen.pollers);
      const at = { deploymentName: deps.deploymentName, currentBuildId: seen.currentBuildId, pollersByBuildId: seen.byBuildId };
      if (seen.pollers === 0 && !unserved) {
        deps.logger.error(at, 'current_version_has_no_pollers: new ticks wait until a worker of the current version polls, or another version is promoted (`sendonce deploy promote`)');
      } else if (seen.pollers > 0 && unserved) {
        deps.logger.info(at, 'current_version_served_again');
      }
      unserved = seen.pollers === 0;
    },
    { logger: deps.logger, event: 'deployment_watch_round_failed' },
  );
}
