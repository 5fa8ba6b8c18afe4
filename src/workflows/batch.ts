/**
 * One batch run per schedule tick: lock → recipients page by page (or the given recipient ids, for a
 * redrive) → one send activity per recipient (bounded retries, bounded in flight, rate-limited) →
 * dead-letter branch → release lock → run summary. Progress is queryable (`progress`) and shown as the
 * workflow's current details. Deterministic code only: all I/O is in activities, imported here as a type.
 */
import { ApplicationFailure, condition, continueAsNew, log, workflowInfo } from '@temporalio/workflow';
import { bookkeeping, sendActivities } from './activity-proxies';
import { nominalTime } from './nominal-time';
import { registerProgressQuery, updateDetails, type ProgressBoard } from './progress';
import { PageFeed } from './page-feed';
import { runLanes } from './pool';
import { isStopped, type RunState } from './run-state';
import { chunkSenders, sendChunk } from './send-chunk';
import { sendOne } from './send-one';
import { emptyStats, type BatchInput, type Continuation, type RunStats, type RunSummary } from './types';

export async function batchWorkflow(input: BatchInput): Promise<RunSummary> {
  const board: ProgressBoard = { jobName: input.jobName };
  const requested = input.recipientIds ?? input.continuation?.recipientIds;
  if (requested) board.recipientsRequested = requested.length;
  registerProgressQuery(board);
  const state = input.continuation ? resume(input.continuation) : await begin(input, board);
  if (!('lock' in state)) return state; // skipped: the lock is held elsewhere or unavailable
  board.state = state;
  updateDetails(state);

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
    const { workflowId: _w, lockLost: _l, fatal: _f, stopReason: _s, waitingForRateLimit: _r, ...next } = state;
    await continueAsNew<typeof batchWorkflow>({ jobName: input.jobName, continuation: { ...next, segment: state.segment + 1 } });
  }
  if (!state.lockLost) await bookkeeping.releaseLock({ jobName: input.jobName, token: state.lock.token });
  const outcome = state.fatal ? 'failed' : state.lockLost ? 'lock_lost' : state.stopReason ? 'stopped' : 'completed';
  board.outcome = outcome;
  updateDetails(state, outcome);
  if (state.fatal) {
    const message = `${state.fatal.type}: ${state.fatal.message}`;
    await finish(input.jobName, state, 'failed', undefined, message);
    throw ApplicationFailure.nonRetryable(`run stopped by a configuration error — ${message}`, state.fatal.type);
  }
  return finish(input.jobName, state, outcome, state.stopReason);
}

function resume(continuation: Continuation): RunState {
  return { ...continuation, workflowId: workflowInfo().workflowId, lockLost: false, waitingForRateLimit: 0 };
}

/** Record the run, compute its window, take the lock; a skipped run's summary when the lock is not ours. */
async function begin(input: BatchInput, board: ProgressBoard): Promise<RunState | RunSummary> {
  const info = workflowInfo();
  const scheduledAt = nominalTime(input).toISOString();
  const runId = info.firstExecutionRunId;
  const started = await bookkeeping.startRun({ jobName: input.jobName, runId, workflowId: info.workflowId, scheduledAt });
  const base = { runId, workflowId: info.workflowId, scheduledAt, window: started.window, settings: started.settings };
  const lock = await bookkeeping.acquireLock({ jobName: input.jobName, runId, ttlMs: started.settings.lockTtlMs });
  if (!lock.acquired) {
    board.outcome = 'skipped';
    return finish(input.jobName, { ...base, stats: emptyStats(), segment: 1 }, 'skipped', lock.reason);
  }
  return {
    ...base,
    lock: { token: lock.token, fence: lock.fence },
    cursor: null,
    stats: emptyStats(),
    segment: 1,
    lockLost: false,
    waitingForRateLimit: 0,
    ...(input.recipientIds ? { recipientIds: input.recipientIds } : {}),
  };
}

/**
 * Sends the recipients with at most `maxInFlight` of them in flight: in chunks of `chunkSize` per activity
 * (the fast path), or one activity per recipient when chunkSize is 1; pages are read ahead (PageFeed).
 * Returns true when the run should continue as new (more pages remain), false when it is finished.
 */
async function processPages(jobName: string, state: RunState): Promise<boolean> {
  const { maxInFlight } = state.settings;
  // maxInFlight bounds recipients in flight on both paths: a chunk never holds more than that.
  const chunkSize = Math.min(state.settings.chunkSize, maxInFlight);
  const lanes = chunkSize <= 1 ? maxInFlight : Math.max(1, Math.floor(maxInFlight / chunkSize));
  const send = unitSender(jobName, state, chunkSize);
  const feed = new PageFeed(jobName, state, chunkSize, lanes, () => updateDetails(state));
  await runLanes(lanes, () => (isStopped(state) ? Promise.resolve(undefined) : feed.next()), send);
  updateDetails(state);
  if (isStopped(state)) return false;
  state.cursor = feed.cursor;
  return feed.continueAsNew;
}

function unitSender(jobName: string, state: RunState, chunkSize: number): (ids: string[]) => Promise<void> {
  if (chunkSize <= 1) {
    const sends = sendActivities(state.settings);
    return ([recipientId]) =>
      sendOne(sends, { jobName, runId: state.runId, recipientId: recipientId!, window: state.window, fence: state.lock.fence }, state);
  }
  const senders = chunkSenders(state);
  return (chunk) => sendChunk(senders, jobName, chunk, state);
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
