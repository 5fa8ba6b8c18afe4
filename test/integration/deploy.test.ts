/**
 * Issue 14, point 1: Worker Versioning on the dev server. Two worker versions of one deployment; a run started on
 * v1 stays pinned to v1 (with its continue-as-new segments) after v2 is promoted, while new runs go to v2; our
 * `sendonce deploy status|promote|rollback` and the real `temporal worker deployment describe|set-current-version`
 * see and steer the same thing; the default build ID is the workflow bundle's hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { decodeVersioningBehavior } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { DeployStatus } from '../../src/api';
import { buildIdOf, joinDeployment, type VersioningSettings } from '../../src/worker-versioning';
import { createWorker, type SendonceWorker } from '../../src/sendonce-worker';
import { uniqueName } from '../../devkit/databases';
import { userEmails } from '../../devkit/seed';
import { temporalAddress } from '../../devkit/shared-services';
import { temporalCliPath } from '../../devkit/services/tool-paths';
import { runSendonce } from '../support/cli';
import { eventually } from '../support/eventually';
import { testJob, workflowBundle, type Harness } from '../support/harness';
import { harnessFor, startBatch } from '../support/never-twice';

function temporal(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(temporalCliPath(), [...args, '--address', temporalAddress()], (err, out, stderr) => (err ? reject(new Error(`${stderr}${out}`)) : resolve(out))),
  );
}

/** A worker of `h`'s task queue as deployment version `buildId`; stopped when the test ends. */
async function versionedWorker(t: { after(fn: () => Promise<void>): void }, h: Harness, v: VersioningSettings): Promise<SendonceWorker> {
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await createWorker({ connection, namespace: 'default', taskQueue: h.taskQueue, activities: h.deps, workflowBundle: await workflowBundle(), versioning: v });
  const running = worker.run();
  t.after(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });
  return worker;
}

const pinnedTo = async (h: Harness, workflowId: string) => {
  const info = (await h.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: decodeVersioningBehavior(info?.behavior), buildId: info?.deploymentVersion?.buildId };
};

test('a run stays on the version that started it; promote, rollback and status, by our CLI and by the temporal CLI', async (t) => {
  const job = testJob({ chunkSize: 1, maxInFlight: 1 });
  const h = await harnessFor(t, [job], { startWorker: false });
  await h.seedUsers(userEmails(12));
  const deploymentName = uniqueName('dep').replace(/_/g, '-');
  const env = { TEMPORAL_ADDRESS: temporalAddress(), DEPLOYMENT_NAME: deploymentName };
  const status = async () => {
    const r = await runSendonce(['deploy', 'status', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as DeployStatus;
  };

  const v1: VersioningSettings = { deploymentName, buildId: 'v1', promote: 'if-none' };
  await versionedWorker(t, h, v1);
  assert.equal(await joinDeployment(h.client, v1, h.deps.logger), 'promoted', 'the first version of a deployment makes itself current');
  assert.equal((await status()).currentBuildId, 'v1');

  // ~36 s of sending: the run is still going when v2 arrives, and still open through the 30 s status may take to
  // see it (a CI run on a loaded machine timed out waiting for status to count the run; at ~1 s per message it may
  // have ended first)
  h.sink.onData(() => ({ delayMs: 3_000, then: 'accept' }));
  const slow = await startBatch(h, job);
  await eventually(async () => h.sink.count >= 2, 'the v1 run to be sending');

  const v2: VersioningSettings = { deploymentName, buildId: 'v2', promote: 'if-none' };
  await versionedWorker(t, h, v2);
  assert.equal(await joinDeployment(h.client, v2, h.deps.logger), 'not current', 'a later version waits for promote');
  const promoted = await runSendonce(['deploy', 'promote'], env);
  assert.equal(promoted.code, 0, promoted.stderr);
  assert.match(promoted.stdout, /^current version is now v2 \(was v1\)/);
  const during = await status();
  assert.equal(during.currentBuildId, 'v2');
  assert.equal(during.versions.find((v) => v.buildId === 'v1')?.status, 'draining');
  // The run in flight is counted on v1 (its workers must keep running): an early 0 here lets operators stop them.
  await eventually(async () => (await status()).openRuns.v1 === 1, 'status to count the run in flight on v1');
  assert.equal(during.openRuns.v2 ?? 0, 0);

  h.sink.onData(undefined);
  assert.equal((await slow.result()).outcome, 'completed');
  assert.deepEqual(await pinnedTo(h, slow.workflowId), { behavior: 'PINNED', buildId: 'v1' }, 'the run in flight finished on v1');
  // The next tick (after the slow run let go of the job lock) goes to v2.
  const fresh = await startBatch(h, job, { scheduledAt: '2026-11-21T10:00:00Z' });
  assert.equal((await fresh.result()).outcome, 'completed');
  assert.deepEqual(await pinnedTo(h, fresh.workflowId), { behavior: 'PINNED', buildId: 'v2' }, 'new runs go to the current version');
  await eventually(async () => (await status()).openRuns.v1 === 0, 'v1 has no open runs left (its workers may stop)');

  // The real Temporal CLI sees and steers the same deployment.
  assert.match(await temporal('worker', 'deployment', 'describe', '--name', deploymentName), /CurrentVersionBuildID\s+v2/);
  await temporal('worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName, '--build-id', 'v1', '--yes');
  assert.equal((await status()).currentBuildId, 'v1');
  const back = await runSendonce(['deploy', 'rollback'], env);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /^rolled back: current version is now v2 \(was v1\)/);
  assert.match(await temporal('worker', 'deployment', 'describe', '--name', deploymentName), /CurrentVersionBuildID\s+v2/);

  const missing = await runSendonce(['deploy', 'promote', '--build-id', 'v9'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^sendonce: deployment '.*' has no version 'v9' \(versions: v2, v1\): its workers must have started\n$/);
});

test('the default build ID is the workflow bundle hash: it changes exactly when the workflow code does', async () => {
  const { code } = await workflowBundle();
  assert.match(buildIdOf(code), /^b-[0-9a-f]{12}$/);
  assert.equal(buildIdOf(code), buildIdOf(String(code)));
  assert.notEqual(buildIdOf(code), buildIdOf(code + '\n// one more line'));
});
