/**
 * One batch run per schedule tick: lock → recipients page by page → one send activity per recipient
 * (bounded retries, bounded in flight) → dead-letter branch → release lock → run summary.
 * Deterministic code only: all I/O is in activities, imported here as a type.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES, RUN_FATAL_ERROR_TYPES } from '../errors';
import { nominalTime } from './nominal-time';
import { runPool } from './pool';
import {
  emptyStats,
  type BatchInput,
  type Continuation,
  type RunSettings,
  type RunStats,
  type RunSummary,
  type SendInput,
} from './types';

/** Bookkeeping activities (run rows, lock, pages): short, retried a few times, bounded in total time. */
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3m',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

function sendActivities(settings: RunSettings) {
  const r = settings.retry;
  return proxyActivities<Activities>({
    startToCloseTimeout: r.attemptTimeoutMs,
    scheduleToCloseTimeout: r.totalTimeoutMs,
    retry: {
      maximumAttempts: r.maximumAttempts,
      initialInterval: r.initialIntervalMs,
      backoffCoefficient: r.backoffCoefficient,
      maximumInterval: r.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

interface RunState extends Continuation {
  workflowId: string;
  lockLost: boolean;
  fatal?: { type: string; message: string };
}

export async function batchWorkflow(input: BatchInput): Promise<RunSummary> {
  const info = workflowInfo();
  let state: RunState;
  if (input.continuation) {
    state = { ...input.continuation, workflowId: info.workflowId, lockLost: false };
  } else {
    const scheduledAt = nominalTime(input).toISOString();
    const runId = info.firstExecutionRunId;
    const started = await bookkeeping.startRun({ jobName: input.jobName, runId, workflowId: info.workflowId, scheduledAt });
    const base = { runId, workflowId: info.workflowId, scheduledAt, window: started.window, settings: started.settings };
    const lock = await bookkeeping.acquireLock({ jobName: input.jobName, runId, ttlMs: started.settings.lockTtlMs });
    if (!lock.acquired) {
      return finish(input.jobName, { ...base, stats: emptyStats(), segment: 1 }, 'skipped', lock.reason);
    }
    state = { ...base, lock: { token: lock.token, fence: lock.fence }, cursor: null, stats: emptyStats(), segment: 1, lockLost: false };
  }

  const renewal = keepLockAlive(input.jobName, state);
  let more = true;
  try {
    more = await processPages(input.jobName, state);
  } finally {
    renewal.stop();
    await renewal.done;
  }
  if (more) {
    // History is getting long: carry the cursor, totals and the lock into a fresh run of the same chain.
    const next: Continuation = {
      runId: state.runId,
      scheduledAt: state.scheduledAt,
      window: state.window,
      settings: state.settings,
      lock: state.lock,
      cursor: state.cursor,
      stats: state.stats,
      segment: state.segment + 1,
    };
    await continueAsNew<typeof batchWorkflow>({ jobName: input.jobName, continuation: next });
  }
  if (!state.lockLost) await bookkeeping.releaseLock({ jobName: input.jobName, token: state.lock.token });
  if (state.fatal) {
    const message = `${state.fatal.type}: ${state.fatal.message}`;
    await finish(input.jobName, state, 'failed', undefined, message);
    throw ApplicationFailure.nonRetryable(`run stopped by a configuration error — ${message}`, state.fatal.type);
  }
  return finish(input.jobName, state, state.lockLost ? 'lock_lost' : 'completed');
}

/** Returns true when the run should continue as new (more pages remain), false when it is finished. */
async function processPages(jobName: string, state: RunState): Promise<boolean> {
  const sends = sendActivities(state.settings);
  const stopped = () => state.lockLost || state.fatal !== undefined;
  for (;;) {
    if (stopped()) return false;
    const ids = await bookkeeping.fetchRecipientPage({
      jobName,
      afterId: state.cursor,
      limit: state.settings.pageSize,
      window: state.window,
      scheduledAt: state.scheduledAt,
    });
    if (ids.length === 0) return false;
    await runPool(ids, state.settings.maxInFlight, stopped, (recipientId) =>
      sendOne(sends, { jobName, runId: state.runId, recipientId, window: state.window, fence: state.lock.fence }, state),
    );
    if (stopped()) return false;
    state.cursor = ids[ids.length - 1]!;
    if (ids.length < state.settings.pageSize) return false;
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= state.settings.continueAsNewAfterEvents) return true;
  }
}

async function sendOne(sends: ReturnType<typeof sendActivities>, input: SendInput, state: RunState): Promise<void> {
  const stats = state.stats;
  stats.processedCount++;
  try {
    const result = await sends.sendEmail(input);
    stats.retryCount += result.attempt - 1;
    switch (result.outcome) {
      case 'sent':
        stats.sentCount++;
        return;
      case 'skipped_dedupe':
        stats.skippedDedupeCount++;
        return;
      case 'unknown':
        stats.unknownCount++;
        stats.failedCount++;
        return;
      case 'ineligible':
        stats.ineligibleCount++;
        return;
      case 'fenced':
        // A newer lock holder exists: this run stops; the newer one sends the rest.
        stats.processedCount--;
        state.lockLost = true;
        return;
    }
  } catch (err) {
    const { type, message } = describeFailure(err);
    if (RUN_FATAL_ERROR_TYPES.includes(type)) {
      stats.failedCount++;
      state.fatal ??= { type, message };
      return;
    }
    const final = await bookkeeping.recordDeadLetter({ ...input, errorType: type, message });
    stats.failedCount++;
    if (final === 'dead') stats.deadLetteredCount++;
    else stats.unknownCount++;
  }
}

function describeFailure(err: unknown): { type: string; message: string } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
    if (cause) return { type: cause.name, message: cause.message };
  }
  return { type: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
}

/** Renew the lock every third of its TTL while the run works; a failed renewal stops the run's sending. */
function keepLockAlive(jobName: string, state: RunState): { stop(): void; done: Promise<void> } {
  let stopping = false;
  const done = (async () => {
    while (!stopping) {
      await condition(() => stopping, Math.max(1000, Math.floor(state.settings.lockTtlMs / 3)));
      if (stopping) return;
      const held = await bookkeeping.renewLock({ jobName, token: state.lock.token, ttlMs: state.settings.lockTtlMs });
      if (!held) {
        log.warn('job_lock_lost', { runId: state.runId, jobName });
        state.lockLost = true;
        return;
      }
    }
  })();
  return { stop: () => (stopping = true), done };
}

async function finish(
  jobName: string,
  state: Pick<Continuation, 'runId' | 'scheduledAt' | 'window' | 'stats' | 'segment'> & { workflowId?: string; lock?: { fence: number } },
  outcome: RunSummary['outcome'],
  reason?: string,
  error?: string,
): Promise<RunSummary> {
  const summary: RunSummary = {
    runId: state.runId,
    workflowId: state.workflowId ?? workflowInfo().workflowId,
    jobName,
    scheduledAt: state.scheduledAt,
    window: state.window,
    outcome,
    skipped: outcome === 'skipped',
    ...(reason ? { reason } : {}),
    ...(state.lock ? { fence: state.lock.fence } : {}),
    segments: state.segment,
    stats: state.stats,
  };
  await bookkeeping.finishRun({ summary, ...(error ? { error } : {}) });
  return summary;
}

export type { RunStats };
