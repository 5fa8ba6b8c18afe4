/** Resolve a job's run settings from its definition and the deployment config (defaults documented here). */
import { DEFAULT_RETRY, type JobDefinition, type SendRetryOptions } from '../jobs';
import type { RunSettings } from '../workflows/types';

/** Pages of this size keep each history segment well under Temporal's limits (see continueAsNewAfterEvents). */
export const DEFAULT_PAGE_SIZE = 200;
/** Hundreds at most: a workflow fails above 2,000 activities in flight; the worker runs 100 at once by default. */
export const DEFAULT_MAX_IN_FLIGHT = 50;
/**
 * Recipients per send activity. 25 makes Temporal's per-activity cost ~4 % of what it is with one activity
 * per recipient while a chunk still finishes in a fraction of a second; measured in BENCHMARKS.md.
 */
export const DEFAULT_CHUNK_SIZE = 25;
/**
 * Each send costs ≥ 3 history events plus workflow-task events. The server suggests continue-as-new at ~4k
 * events and hard-fails at 50k; checking between pages at 4,000 keeps every segment under 10,000.
 */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 4_000;

export function resolveRetry(job: JobDefinition, defaults: Partial<SendRetryOptions> = {}): SendRetryOptions {
  return { ...DEFAULT_RETRY, ...defaults, ...job.retry };
}

export function runSettings(
  job: JobDefinition,
  deployment: { lockTtlMs: number; attemptTimeoutMs?: number },
): RunSettings {
  return {
    pageSize: job.pageSize ?? DEFAULT_PAGE_SIZE,
    // With a minimum gap the sends are spaced anyway; one at a time avoids a herd of waits after every send.
    maxInFlight: job.rateLimit?.minGapMs ? 1 : Math.min(job.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 500),
    lockTtlMs: deployment.lockTtlMs,
    retry: resolveRetry(job, deployment.attemptTimeoutMs ? { attemptTimeoutMs: deployment.attemptTimeoutMs } : {}),
    chunkSize: Math.max(1, Math.min(job.chunkSize ?? DEFAULT_CHUNK_SIZE, 200)),
    continueAsNewAfterEvents: Math.min(job.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS, 20_000),
  };
}
