/**
 * A starting worker joins its deployment and applies DEPLOY_PROMOTE: `if-none` (default) makes its version
 * current only when the deployment has none yet (the very first deploy, a dev machine) — later releases are
 * promoted by a person (`sendonce deploy promote`) once the new workers are up; `always` makes every starting
 * worker's version current (one version at a time, e.g. a single host); `never` leaves it to the operator.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '../logger';
import { describeDeployment, setCurrentVersion } from './deployments';
import type { VersioningSettings } from './options';

export type JoinResult = 'current' | 'promoted' | 'not current';

/** Waits (up to `timeoutMs`) until the server has seen this version's pollers, then applies the policy. */
export async function joinDeployment(client: Client, v: VersioningSettings, logger: Logger, timeoutMs = 60_000): Promise<JoinResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await describeDeployment(client, v.deploymentName);
    if (d?.versions.some((x) => x.buildId === v.buildId)) {
      const at = { deploymentName: v.deploymentName, buildId: v.buildId, currentBuildId: d.currentBuildId };
      if (d.currentBuildId === v.buildId) return log(logger, at, 'current');
      if (v.promote === 'always' || (v.promote === 'if-none' && d.currentBuildId === null)) {
        await setCurrentVersion(client, v.deploymentName, v.buildId, 'sendonce worker (DEPLOY_PROMOTE)');
        return log(logger, at, 'promoted');
      }
      return log(logger, at, 'not current');
    }
    if (Date.now() > deadline) throw new Error(`deployment ${v.deploymentName}: version ${v.buildId} not seen by the server within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function log(logger: Logger, at: Record<string, unknown>, result: JoinResult): JoinResult {
  if (result === 'not current') {
    logger.warn({ ...at, result }, 'worker_version_not_current: new runs keep going to the current version until `sendonce deploy promote`');
  } else {
    logger.info({ ...at, result }, 'worker_version_joined');
  }
  return result;
}
