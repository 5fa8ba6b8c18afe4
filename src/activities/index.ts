/**
 * All I/O of a batch run: one activity per file beside this one, built by one factory from its dependencies
 * (deps.ts) so tests can build the same activities against real services with their own settings.
 * Workflows import only the *type* of what this returns; its keys are the activity type names in Temporal's
 * history, so renaming one is a workflow change (docs/safe-deploys.md).
 */
import { noMetrics } from '../metrics';
import { acquireLockActivity } from './acquire-lock';
import type { ActivityDeps } from './deps';
import { fenceOffActivity } from './fence-off';
import { fetchRecipientPageActivity } from './fetch-recipient-page';
import { finishRunActivity } from './finish-run';
import { pruneOldRowsActivity } from './prune-old-rows';
import { createRateLimiter } from './rate-limit';
import { recordDeadLetterActivity } from './record-dead-letter';
import { releaseLockActivity } from './release-lock';
import { renewLockActivity } from './renew-lock';
import type { SendDeps } from './send-attempt';
import { sendChunkActivity } from './send-chunk';
import { sendEmailActivity } from './send-email';
import { Semaphore } from './semaphore';
import { startRunActivity } from './start-run';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  const metrics = deps.metrics ?? noMetrics;
  const sendDeps: SendDeps = {
    ...deps,
    retryDefaults: deps.retryDefaults ?? {},
    sendSlots: new Semaphore(deps.maxConcurrentSends ?? 5),
    rateLimiter: createRateLimiter({
      redis: deps.rateLimitRedis,
      keyPrefix: deps.redisKeyPrefix,
      clock: deps.clock ?? (() => new Date()),
      mailFrom: deps.mailFrom,
      jobs: deps.jobs,
    }),
  };
  return {
    startRun: startRunActivity(deps, metrics),
    acquireLock: acquireLockActivity(deps, metrics),
    renewLock: renewLockActivity(deps),
    fenceOff: fenceOffActivity(deps),
    releaseLock: releaseLockActivity(deps),
    fetchRecipientPage: fetchRecipientPageActivity(deps, metrics),
    /** The fast path: a chunk of recipients, each with its own claim and outcome. */
    sendChunk: sendChunkActivity(sendDeps, metrics),
    sendEmail: sendEmailActivity(sendDeps, metrics),
    recordDeadLetter: recordDeadLetterActivity(deps, metrics),
    pruneOldRows: pruneOldRowsActivity(deps),
    finishRun: finishRunActivity(deps, metrics),
  };
}

export type Activities = ReturnType<typeof createActivities>;
