/**
 * All I/O of a batch run, built by one factory from its dependencies (pool, lock, mail transport, jobs,
 * logger) so tests can build the same activities against real services with their own settings.
 * Workflows import only the *type* of what this returns.
 */
import { Context } from '@temporalio/activity';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import type { ChunkInput, ChunkItemResult, DeadLetterOutcome, RecipientPage, RunSummary, SendInput, SendResult, StartRunResult } from '../contract';
import type { JobRegistry } from '../jobs';
import type { Logger } from '../logger';
import type { JobLock } from '../lock';
import { noMetrics, observeSend, type AppMetrics } from '../metrics';
import { messageIdFor } from '../smtp/message-id';
import type { SendRetryOptions } from '../retry';
import { recordDeadLetter } from '../sends';
import { windowFor } from '../window';
import { prune, type PruneResult } from '../retention';
import { fetchRecipientPage, type PageRequest } from './pages';
import { createRateLimiter } from './rate-limit';
import { recordRunFinish, recordRunStart } from '../runs/records';
import { reapEndedRuns, type ReaperDeps } from '../runs/reaper';
import { lockActivities } from './lock';
import { keyFor, sendEmail } from './send';
import { sendChunk } from './send-chunk';
import { Semaphore } from './semaphore';
import { runSettings } from './settings';
import type { UnsubscribeSettings } from '../suppressions/links';

export interface ActivityDeps {
  pool: Pool;
  lock: JobLock;
  transport: Transporter;
  jobs: JobRegistry;
  logger: Logger;
  mailFrom: string;
  messageIdDomain: string;
  lockTtlMs: number;
  /** What a tick does when the lock store is unreachable: 'skip' (fail closed) or 'fail' the run. */
  lockUnavailable: 'skip' | 'fail';
  retryDefaults?: Partial<SendRetryOptions>;
  /**
   * Sends in progress at once in this worker (claim → SMTP → mark); default 5 = the SMTP pool size.
   * Activities beyond it wait BEFORE claiming, so a crash leaves at most this many claims ambiguous.
   */
  maxConcurrentSends?: number;
  /** Prometheus counters (src/metrics.ts); default: none. */
  metrics?: AppMetrics;
  /** Redis for per-job rate limits (rate-limit.ts); required when a job has a rateLimit. */
  rateLimitRedis?: Redis;
  /** Prefix of the rate-limit keys (LOCK_KEY_PREFIX). */
  redisKeyPrefix?: string;
  /** The clock rate-limit buckets are read from (tests inject one); default () => new Date(). */
  clock?: () => Date;
  /** One-click unsubscribe links on recurring emails (UNSUBSCRIBE_URL, UNSUBSCRIBE_SECRET…); unset = none. */
  unsubscribe?: UnsubscribeSettings | undefined;
  /**
   * Drop keys already finished from each page before any send is scheduled (default true). Only a shortcut — the
   * claim is the guarantee; tests turn it off to show that.
   */
  filterFinishedKeys?: boolean;
}

export function createActivities(deps: ActivityDeps) {
  const { pool, logger, jobs } = deps;
  const retryDefaults = deps.retryDefaults ?? {};
  const rateLimiter = createRateLimiter({
    redis: deps.rateLimitRedis,
    keyPrefix: deps.redisKeyPrefix,
    clock: deps.clock ?? (() => new Date()),
    mailFrom: deps.mailFrom,
    jobs,
  });
  const sendDeps = { ...deps, retryDefaults, sendSlots: new Semaphore(deps.maxConcurrentSends ?? 5), rateLimiter };
  const metrics = deps.metrics ?? noMetrics;
  const reaperDeps: ReaperDeps = { pool, lock: deps.lock, logger, metrics };

  return {
    /** Validate the job, compute the window from the nominal time, record the run as started. */
    async startRun(input: { jobName: string; runId: string; workflowId: string; scheduledAt: string }): Promise<StartRunResult> {
      const job = jobs.get(input.jobName);
      const scheduledAt = new Date(input.scheduledAt);
      const window = windowFor(scheduledAt, job.window);
      // Runs of this job that ended unrecorded (terminated, timed out) are closed first, and their lock freed.
      await reapEndedRuns(reaperDeps, Context.current().client, { jobName: job.name, exceptRunId: input.runId }).catch((err: Error) =>
        logger.warn({ runId: input.runId, jobName: job.name, err: err.message }, 'reaper_round_failed'),
      );
      await recordRunStart(pool, { ...input, scheduledAt, window });
      logger.info({ runId: input.runId, jobName: job.name, workflowId: input.workflowId, scheduledAt: input.scheduledAt, window }, 'job_run_started');
      return { window, settings: runSettings(job, { lockTtlMs: deps.lockTtlMs, attemptTimeoutMs: retryDefaults.attemptTimeoutMs }) };
    },

    ...lockActivities(deps, metrics),

    /** A page of recipients, checked for order, keys already finished dropped (pages.ts). */
    async fetchRecipientPage(input: PageRequest): Promise<RecipientPage> {
      const page = await fetchRecipientPage(pool, jobs.get(input.jobName), input, { filterFinished: deps.filterFinishedKeys ?? true });
      metrics.pageFinished(input.jobName, page.finished);
      metrics.suppressedOnPage(input.jobName, page.suppressed ?? 0);
      return page;
    },

    /** The fast path: a chunk of recipients, each with its own claim and outcome (send-chunk.ts). */
    async sendChunk(input: ChunkInput): Promise<ChunkItemResult[]> {
      return sendChunk(sendDeps, metrics, input);
    },

    async sendEmail(input: SendInput): Promise<SendResult> {
      return observeSend(metrics, input.jobName, Context.current().info.attempt, () => sendEmail(sendDeps, input));
    },

    /** The failure branch: returns the key's final state ('dead', or 'unknown' if it may have been sent). */
    async recordDeadLetter(input: SendInput & { errorType: string; message: string }): Promise<DeadLetterOutcome> {
      const job = jobs.get(input.jobName);
      const key = keyFor(job, input.recipientId, input.window);
      const state = await recordDeadLetter(pool, {
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
      if (state === 'deduped') {
        logger.info({ runId: input.runId, jobName: job.name, recipientId: input.recipientId, errorType: input.errorType }, 'send_failed_key_owned_by_another_run');
        return state;
      }
      logger.warn({ runId: input.runId, jobName: job.name, recipientId: input.recipientId, errorType: input.errorType, state }, 'send_dead_lettered');
      metrics.deadLettered(job.name, state);
      return state;
    },

    /** Retention (the prune job): delete what closed windows no longer need, heartbeating after every batch. */
    async pruneOldRows(input: { olderThanMs: number }): Promise<PruneResult> {
      const result = await prune(pool, jobs.all(), { olderThanMs: input.olderThanMs, onBatch: (n) => Context.current().heartbeat(n) });
      logger.info({ ...result }, 'pruned');
      return result;
    },

    /** Record the run's end and log the run summary line. */
    async finishRun(input: { summary: RunSummary; error?: string }): Promise<void> {
      const { summary } = input;
      const durationMs = (await recordRunFinish(pool, {
        runId: summary.runId,
        outcome: summary.outcome,
        ...(summary.reason ? { reason: summary.reason } : {}),
        fence: summary.fence,
        counts: summary.counts,
        error: input.error,
      })) ?? 0;
      const line = {
        runId: summary.runId,
        workflowId: summary.workflowId,
        jobName: summary.jobName,
        scheduledAt: summary.scheduledAt,
        window: summary.window,
        outcome: summary.outcome,
        reason: summary.reason,
        durationMs,
        ...summary.counts,
        ...(input.error ? { error: input.error } : {}),
      };
      metrics.runFinished(summary.jobName, summary.outcome, durationMs);
      if (summary.outcome === 'failed') logger.error(line, 'job_run_finished');
      else logger.info(line, 'job_run_finished');
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
