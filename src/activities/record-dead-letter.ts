/**
 * The recordDeadLetter activity, the failure branch of a recipient: write its dead letter and return the key's final
 * state — 'dead', 'unknown' if it may have been sent, or what another run already recorded for it.
 */
import type { DeadLetterOutcome, SendInput } from '../contract';
import { messageIdFor } from '../delivery';
import type { AppMetrics } from '../metrics';
import { keyFor, writeDeadLetter } from '../sends';
import type { ActivityDeps } from './deps';

export type DeadLetterInput = SendInput & { errorType: string; message: string };

export function recordDeadLetterActivity(deps: Pick<ActivityDeps, 'pool' | 'jobs' | 'logger' | 'messageIdDomain'>, metrics: AppMetrics) {
  const { logger } = deps;
  return async function recordDeadLetter(input: DeadLetterInput): Promise<DeadLetterOutcome> {
    const job = deps.jobs.get(input.jobName);
    const key = keyFor(job, input.recipientId, input.window);
    const state = await writeDeadLetter(deps.pool, {
      key,
      jobName: job.name,
      template: job.template,
      recipientId: input.recipientId,
      window: input.window,
      runId: input.runId,
      fence: input.fence,
      messageId: messageIdFor(key, deps.messageIdDomain),
      errorType: input.errorType,
      message: input.message,
    });
    const who = { runId: input.runId, jobName: job.name, recipientId: input.recipientId, errorType: input.errorType };
    if (state === 'deduped') logger.info(who, 'send_failed_key_owned_by_another_run');
    else logger.warn({ ...who, state }, 'send_dead_lettered');
    metrics.deadLettered(job.name, state);
    return state;
  };
}
