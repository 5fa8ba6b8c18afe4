/**
 * Scenarios 13 and 14: a deploy in the middle of a run — issue 14's proof that Worker Versioning protects runs in
 * flight, and what happens without it. Version 2's workflow code differs from version 1's: one more activity
 * call per page (devkit/variant-bundle.ts), so a run started on version 1 cannot be replayed on version 2.
 *
 * 13 (versioned, the default): v1 runs a long tick; v2 starts and is promoted; the run in flight finishes on v1
 *    (pinned); once v1 has no open run its worker stops; the next tick runs on v2. No run fails or wedges.
 * 14 (WORKER_VERSIONING=false, a plain rolling deploy): v2 starts, v1 stops; the run in flight is handed to v2,
 *    whose replay of it fails with a non-determinism error; the run is wedged (its workflow task fails again and
 *    again) until an operator terminates it; the reaper closes it, the next tick on v2 sends the rest. Passes when
 *    that is what happens — the failure the versioned deploy prevents, shown rather than assumed — and no one got
 *    two emails.
 */
import type { Client } from '@temporalio/client';
import { decodeVersioningBehavior } from '@temporalio/common';
import { deployStatus, promoteVersion } from '../../../src/api';
import { chaosDeploy } from '../jobs';
import { pointIn, settle, until, type Scenario } from '../scenario';
import { CHAOS_WINDOW, type World } from '../world';

async function pinnedBuild(client: Client, workflowId: string): Promise<string | undefined> {
  const info = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
  return decodeVersioningBehavior(info?.behavior) === 'PINNED' ? (info?.deploymentVersion?.buildId ?? undefined) : undefined;
}

/** Workflow tasks of the chain that failed on a determinism error (TMPRL1100). */
async function determinismFailures(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => /TMPRL1100|[Nn]ondeterminism/.test(e.workflowTaskFailedEventAttributes?.failure?.message ?? '')).length;
}

/** Version 1's worker, a slow run on it (~12 s: version 2 starts well before it ends), at a random message of it. */
async function slowRunOnVersion1(world: World, rng: () => number, env: Record<string, string>) {
  const v1 = await world.startWorker(env);
  world.sink.onData(() => ({ delayMs: 300 }));
  const handle = await world.startRun();
  const at = pointIn(rng, world.users.length, 0.1, 0.3);
  await until(() => world.sink.count >= at, `v1 to send ${at} messages`);
  return { v1, handle, at };
}

export const deployMidRun: Scenario = {
  id: 13,
  name: 'deploy-mid-run',
  title: 'a release at a random point mid-run: version 2 (one more activity per page) started and promoted; version 1 drained, then stopped',
  job: chaosDeploy,
  recipients: 200,
  async run(world, rng) {
    const client = world.client;
    const { v1, handle, at } = await slowRunOnVersion1(world, rng, {});
    await world.startWorker({ WORKFLOW_BUNDLE_PATH: world.services.variantBundlePath! });
    const v1Build = (await pinnedBuild(client, handle.workflowId))!;
    await until(async () => (await deployStatus(client, world.deploymentName)).versions.length === 2, 'v2 to join the deployment');
    const promoted = await promoteVersion(client, world.deploymentName);
    world.notes.push(`v2 ${promoted.current} promoted after message ${at}; v1 ${v1Build} drains`);
    const summary = await world.result(handle);
    await until(async () => (await deployStatus(client, world.deploymentName)).openRuns[v1Build] === 0, 'v1 to have no open run');
    await v1.stop();
    world.sink.onData(undefined);
    const next = await world.startRun();
    const nextSummary = await world.result(next);
    const violations: string[] = [];
    if ((await pinnedBuild(client, handle.workflowId)) !== v1Build) violations.push('the run in flight left version 1');
    if ((await pinnedBuild(client, next.workflowId)) !== promoted.current) violations.push(`the next tick did not run on version 2 (${promoted.current})`);
    for (const h of [handle, next]) {
      const failed = await determinismFailures(client, h.workflowId);
      if (failed > 0) violations.push(`${h.workflowId}: ${failed} workflow task(s) failed on non-determinism`);
    }
    if (summary.outcome !== 'completed') violations.push(`the run in flight ended ${summary.outcome}, not completed`);
    const outcome = await settle(world, [summary, nextSummary], [CHAOS_WINDOW]);
    return { ...outcome, violations: [...outcome.violations, ...violations] };
  },
};

export const deployMidRunUnversioned: Scenario = {
  id: 14,
  name: 'deploy-mid-run-unversioned',
  title: 'the same release with WORKER_VERSIONING=false (rolling: v2 starts, v1 stops): the run in flight is expected to wedge on non-determinism',
  job: chaosDeploy,
  recipients: 200,
  async run(world, rng) {
    const client = world.client;
    const unversioned = { WORKER_VERSIONING: 'false' };
    const { v1, handle, at } = await slowRunOnVersion1(world, rng, unversioned);
    await world.startWorker({ ...unversioned, WORKFLOW_BUNDLE_PATH: world.services.variantBundlePath! });
    await v1.stop();
    const stoppedAt = Date.now();
    const violations: string[] = [];
    try {
      await until(async () => (await determinismFailures(client, handle.workflowId)) > 0, 'a determinism failure of the run in flight', 90_000);
      const sentAtWedge = world.sink.count;
      world.notes.push(`v1 stopped after message ${at}; the run in flight failed its workflow task on v2 (non-determinism) ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later, with ${sentAtWedge} of ${world.users.length} sent; it retries that task and stays open: an operator terminates it`);
    } catch {
      violations.push('expected the run in flight to fail on non-determinism after an unversioned deploy, and it did not');
    }
    await handle.terminate('chaos: wedged by an unversioned deploy');
    world.sink.onData(undefined);
    const outcome = await settle(world, [], [CHAOS_WINDOW]);
    return { ...outcome, violations: [...outcome.violations, ...violations] };
  },
};
