/**
 * Issue 18.2: a namespace without sendonce's search attributes must not wedge runs. On a dev server started
 * without them, the real worker refuses to start with one line naming what is missing and how to add it;
 * `sendonce setup` adds them (and says so again when they are there); then the worker starts.
 * (That runs set them, and the list queries find the runs, is tested in test/e2e/cli-ops.test.ts and by
 * test/e2e/readme-stack.test.ts with the query block of docs/operating.md.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueName } from '../../devkit/databases';
import { freePort } from '../../devkit/services/ports';
import { startTemporalDevServer } from '../../devkit/services/temporal';
import { redisUrl } from '../../devkit/shared-services';
import { StopStack } from '../../devkit/stop-stack';
import { createTestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, workerEnv } from '../../devkit/worker-process';
import { runSendonce } from '../support/cli';
import { prebuiltBundlePath } from '../support/production';

test('the worker refuses a namespace without the search attributes; sendonce setup adds them; then it starts', async (t) => {
  const stops = new StopStack();
  t.after(() => stops.stopAll());
  const temporal = await stops.started('temporal', startTemporalDevServer({ port: await freePort(), searchAttributes: false }));
  const db = await createTestDatabase();
  stops.push('database', () => db.drop());
  const env = workerEnv({
    databaseUrl: db.url, redisUrl: redisUrl(), temporalAddress: temporal.address, smtpPort: await freePort(),
    taskQueue: uniqueName('tq'), lockKeyPrefix: `${uniqueName('sa')}:`, bundlePath: await prebuiltBundlePath(),
  });

  await assert.rejects(startWorkerProcess(env, { stops }), (err: Error) => {
    assert.match(err.message, /sendonce worker: namespace 'default' lacks the search attributes SendonceJob \(Keyword\), SendonceWindow \(Keyword\), SendonceOutcome \(Keyword\), SendonceReason \(Keyword\), SendonceSent \(Int\), SendonceDead \(Int\), SendonceUnknown \(Int\) that every run sets: run `sendonce setup`/);
    assert.match(err.message, /temporal operator search-attribute create --namespace default --name SendonceJob/);
    return true;
  });

  const cli = { TEMPORAL_ADDRESS: temporal.address };
  const added = await runSendonce(['setup'], cli);
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, 'namespace default: added SendonceJob, SendonceWindow, SendonceOutcome, SendonceReason, SendonceSent, SendonceDead, SendonceUnknown\n');
  const again = await runSendonce(['setup'], cli);
  assert.equal(again.stdout, 'namespace default: every search attribute is there\n');

  const worker = await startWorkerProcess(env, { stops });
  await worker.stop();
});
