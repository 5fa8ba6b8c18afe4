/** Resolve a job's run settings from its definition and the deployment config (defaults documented here). */
import type { RunSettings } from '../contract';
import type { JobDefinition } from '../jobs';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { resolveRetry, type SendRetryOptions } from '../retry';

/**
 * Ids per page (keyset). Pages are read ahead while the previous one is sent (workflows/page-feed.ts); 1,000 ids
 * are ~10 KB in the history per page.
 */
export const DEFAULT_PAGE_SIZE = 1_000;
/**
 * Recipients in flight per run. Only SMTP_MAX_CONNECTIONS of them hold a claim and a connection at any moment
 * (the send slots); the rest wait in the worker, so enough chunks are queued to hide each chunk's round trip
 * through Temporal. Temporal fails a workflow above 2,000 activities in flight: capped at 500.
 */
export const DEFAULT_MAX_IN_FLIGHT = 400;
/**
 * Recipients per send activity. Temporal's per-activity cost (server and SDK) is paid once per chunk; 100 was
 * the fastest of 25, 50 and 100 (BENCHMARKS.md, sendonce variants). A
 * chunk that fails as a whole is redone recipient by recipient, and heartbeats notice a dead worker within one
 * attempt timeout, so a bigger chunk costs little when things go wrong.
 */
export const DEFAULT_CHUNK_SIZE = 100;
/**
 * Each send costs ≥ 3 history events plus workflow-task events. The server suggests continue-as-new at ~4k
 * events and hard-fails at 50k; checking between pages at 4,000 keeps every segment under 10,000.
 */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 4_000;

/** The schedule's run timeout when the job sets none. */
export const DEFAULT_MAX_RUN_DURATION = '1h';

export const maxRunDurationMs = (job: JobDefinition): number => msToNumber((job.schedule.maxRunDuration ?? DEFAULT_MAX_RUN_DURATION) as Duration);

/**
 * The time budget: the job's own, else the run timeout minus room for the sends still in flight to use all their
 * attempts plus a minute to record the run — at most half the run timeout.
 */
export function timeBudgetMs(job: JobDefinition, retry: SendRetryOptions): number {
  if (job.timeBudget) return msToNumber(job.timeBudget as Duration);
  const timeout = maxRunDurationMs(job);
  return timeout - Math.min(retry.totalTimeoutMs + 60_000, Math.floor(timeout / 2));
}

/** The retry defaults are the same ActivityDeps.retryDefaults the claim resolves its lease from (claim-key.ts). */
export function runSettings(job: JobDefinition, deployment: { lockTtlMs: number; retryDefaults: Partial<SendRetryOptions> }): RunSettings {
  const retry = resolveRetry(job, deployment.retryDefaults);
  return {
    pageSize: job.pageSize ?? DEFAULT_PAGE_SIZE,
    // With a minimum gap the sends are spaced anyway; one at a time avoids a herd of waits after every send.
    maxInFlight: job.rateLimit?.minGapMs ? 1 : Math.min(job.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 500),
    lockTtlMs: deployment.lockTtlMs,
    retry,
    chunkSize: Math.max(1, Math.min(job.chunkSize ?? DEFAULT_CHUNK_SIZE, 200)),
    continueAsNewAfterEvents: Math.min(job.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS, 20_000),
    timeBudgetMs: timeBudgetMs(job, retry),
  };
}
