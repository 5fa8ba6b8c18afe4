/**
 * Issue 14: with Worker Versioning off, a workflow change must be guarded with patched(). The example in
 * docs/safe-deploys.md (test/replay/patched-example/v2-patched, shown verbatim there): a history recorded with the
 * old code replays against the patched version, the same change without the guard fails the replay with a
 * determinism error, and a new run on the patched version takes the new path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { uniqueName } from '../../devkit/databases';
import { temporalAddress } from '../../devkit/shared-services';
import { quietTemporalRuntime } from '../support/harness';
import * as activities from './patched-example/activities';

const EXAMPLE = path.join(__dirname, 'patched-example');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };
const bundle = (variant: string) => bundleWorkflowCode({ workflowsPath: require.resolve(path.join(EXAMPLE, variant, 'workflows.ts')), logger: quiet });

/** Run `example` once on a worker of `variant`; returns its history. */
async function runOn(variant: string) {
  const native = await NativeConnection.connect({ address: temporalAddress() });
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const taskQueue = uniqueName('patched');
    const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: await bundle(variant), activities });
    const client = new Client({ connection });
    return await worker.runUntil(async () => {
      const handle = await client.workflow.start('example', { taskQueue, workflowId: uniqueName('example') });
      assert.equal(await handle.result(), 'done');
      return handle.fetchHistory();
    });
  } finally {
    await connection.close();
    await native.close();
  }
}

test('patched(): the old history replays on the guarded change, not on the unguarded one; new runs take the new path', async () => {
  quietTemporalRuntime();
  activities.calls.length = 0;
  const old = await runOn('v1');
  assert.deepEqual(activities.calls, ['A', 'B']);

  await assert.rejects(Worker.runReplayHistory({ workflowBundle: await bundle('v2-unguarded') }, old), DeterminismViolationError);
  await Worker.runReplayHistory({ workflowBundle: await bundle('v2-patched') }, old);

  activities.calls.length = 0;
  await runOn('v2-patched');
  assert.deepEqual(activities.calls, ['A', 'C', 'B'], 'a new run takes the new path');
});

test('docs/safe-deploys.md shows the patched example exactly', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/safe-deploys.md'), 'utf8');
  assert.ok(doc.includes('```ts\n' + fs.readFileSync(path.join(EXAMPLE, 'v2-patched', 'workflows.ts'), 'utf8') + '```\n'));
});
