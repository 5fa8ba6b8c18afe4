/**
 * Worker Versioning (Temporal Worker Deployments): every worker process joins the deployment DEPLOYMENT_NAME as
 * the version BUILD_ID — by default a hash of the workflow bundle it runs, so the version changes exactly when the
 * workflow code does. batchWorkflow (and pruneWorkflow) are PINNED: a run, with every continue-as-new segment,
 * finishes on the version that started it, so a deploy can change workflow code freely — no `patched()`, no
 * non-determinism for runs in flight — and the state a run carries between segments never meets another version's
 * code. New ticks go to the deployment's current version; an old version drains as its runs end (at most the
 * schedule's run timeout, 1 h by default), then its workers can stop. Runs started by a redrive or a resend are
 * pinned to the version current when they start.
 */
import { createHash } from 'node:crypto';
import type { WorkerOptions } from '@temporalio/worker';

/** What a starting worker does about the deployment's current version (DEPLOY_PROMOTE). */
export type PromotePolicy = 'if-none' | 'always' | 'never';

export interface VersioningSettings {
  deploymentName: string;
  buildId: string;
  promote: PromotePolicy;
}

/** The default build ID: the workflow bundle's content hash ('b-' and 12 hex digits of its SHA-256). */
export function buildIdOf(bundleCode: string | Buffer): string {
  return `b-${createHash('sha256').update(bundleCode).digest('hex').slice(0, 12)}`;
}

/** The worker option that joins the deployment; undefined = an unversioned worker (WORKER_VERSIONING=false). */
export function deploymentOptionsFor(v: VersioningSettings | undefined): WorkerOptions['workerDeploymentOptions'] {
  if (!v) return undefined;
  return {
    useWorkerVersioning: true,
    version: { deploymentName: v.deploymentName, buildId: v.buildId },
    // Every workflow type is pinned: a run finishes on the code it started with. (Set here, not per workflow with
    // setWorkflowOptions: a workflow that declares a behaviour fails its tasks on an unversioned worker, and
    // versioning can be turned off.)
    defaultVersioningBehavior: 'PINNED',
  };
}
