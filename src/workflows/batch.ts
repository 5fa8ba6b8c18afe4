/**
 * One batch run per schedule tick: lock → recipients page by page (or the given recipient ids, for a
 * redrive) → send activities (bounded retries, bounded in flight, rate-limited) → dead-letter branch →
 * release lock → run summary. Progress is queryable (`progress`) and shown as the workflow's current details.
 * Every ending is recorded: the normal ones here, failures and cancellation in endings.ts.
 * Deterministic code only: all I/O is in activities, imported here as a type.
 */
import { ApplicationFailure, condition, ContinueAsNew, continueAsNew, isCancellation, log, uuid4, workflowInfo } from '@temporalio/workflow';
import { zeroCounts, type BatchInput, type CarriedState, type RunSummary } from '../contract';
import { bookkeeping, endingRecorder, sendActivities } from './activity-proxies';
import { endAbnormally } from './endings';
import { nominalTime } from './nominal-time';
import { PageFeed } from './page-feed';
import { runLanes } from './lanes';
import { registerProgressQuery, updateDetails, type ProgressBoard } from './progress';
import { Run } from './run-state';
import { markFollowUp, markRunEnded, markRunStarted } from './search-attributes';
import { chunkSenders, sendInChunk } from './chunked-send';
import { sendOne } from './send-one';
import { runSummary, type Ending } from './summary';

export async function batchWorkflow(input: BatchInput): Promise<RunSummary> {
  const requestedIds = input.recipientIds ?? input.continuation?.recipientIds;
  const ending: Ending = { jobName: input.jobName, workflowId: workflowInfo().workflowId, ...(requestedIds ? { redrive: true } : {}) };
  const board: ProgressBoard = { jobName: input.jobName, workflowId: ending.workflowId };
  if (requestedIds) board.recipientsRequested = requestedIds.length;
  registerProgressQuery(board);
  let recorded = false;
  try {
    if (input.continuation) markRunStarted(input.jobName, input.continuation.window);
    if (input.followUp) markFollowUp(input.followUp);
    const carried = input.continuation ?? (await begin(input, board, ending));
    if (!('lock' in carried)) return carried; // skipped: the lock is held elsewhere or unavailable (recorded)
    const run = new Run(input.jobName, ending.workflowId, carried, new Date(carried.chainStartedAt ?? workflowInfo().startTime));
    ending.run = board.run = run;
    updateDetails(run);
    if (await sendWhileHoldingLock(run)) {
      // History is getting long: carry the cursor, counts and the lock into a fresh run of the same chain.
      await continueAsNew<typeof batchWorkflow>({ jobName: input.jobName, continuation: { ...run.carried, segment: run.carried.segment + 1 } });
    }
    if (!run.lockLost) await bookkeeping.releaseLock({ jobName: input.jobName, token: run.carried.lock.token });
    const outcome = run.outcome();
    board.outcome = outcome;
    updateDetails(run, outcome);
    const fatal = run.fatal && `${run.fatal.type}: ${run.fatal.message}`;
    const summary = await finish(runSummary(ending, run.carried, outcome, run.stopReason), { error: fatal, redrive: Boolean(ending.redrive), needsPerson: Boolean(run.fatal) });
    recorded = true;
    if (run.fatal) throw ApplicationFailure.nonRetryable(`run stopped by a configuration error — ${fatal}`, run.fatal.type);
    return summary;
  } catch (err) {
    if (err instanceof ContinueAsNew || recorded) throw err;
    board.outcome = isCancellation(err) ? 'cancelled' : 'failed';
    throw await endAbnormally(ending, err);
  }
}

/** Send every page while renewing the lock; true when the run should continue as new. */
async function sendWhileHoldingLock(run: Run): Promise<boolean> {
  const renewal = keepLockAlive(run);
  try {
    return await sendPages(run);
  } finally {
    renewal.stop();
    await renewal.done;
  }
}

/** Record the run, compute its window, take the lock; a skipped run's summary when the lock is not ours. */
async function begin(input: BatchInput, board: ProgressBoard, ending: Ending): Promise<CarriedState | RunSummary> {
  const info = workflowInfo();
  const scheduledAt = nominalTime(input).toISOString();
  const runId = info.firstExecutionRunId;
  const redrive = Boolean(ending.redrive);
  const started = await bookkeeping.startRun({ jobName: input.jobName, runId, workflowId: info.workflowId, scheduledAt, ...(redrive ? { redrive } : {}) });
  const identity = { runId, scheduledAt, window: started.window };
  ending.identity = identity;
  markRunStarted(input.jobName, started.window);
  if (started.skip) {
    board.outcome = 'skipped';
    return finish(runSummary(ending, identity, 'skipped', started.skip), { redrive });
  }
  // The run's own token, made here (deterministically) so a retried acquireLock recognises a lock it already took.
  const lock = await bookkeeping.acquireLock({ jobName: input.jobName, runId, ttlMs: started.settings.lockTtlMs, token: uuid4() });
  if (!lock.acquired) {
    board.outcome = 'skipped';
    return finish(runSummary(ending, identity, 'skipped', lock.reason), { redrive });
  }
  return {
    ...identity,
    settings: started.settings,
    lock: { token: lock.token, fence: lock.fence },
    cursor: null,
    counts: zeroCounts(),
    segment: 1,
    chainStartedAt: info.startTime.toISOString(),
    // Each id once: the redrive's pages move on by the position of the last id, so a repeated id would loop.
    ...(input.recipientIds ? { recipientIds: [...new Set(input.recipientIds)] } : {}),
  };
}

/**
 * Sends the recipients with at most `maxInFlight` of them in flight: in chunks of `chunkSize` per activity
 * (the fast path), or one activity per recipient when chunkSize is 1; pages are read ahead (PageFeed).
 * Returns true when the run should continue as new (more pages remain), false when it is finished.
 */
async function sendPages(run: Run): Promise<boolean> {
  const { maxInFlight } = run.settings;
  // maxInFlight bounds recipients in flight on both paths: a chunk never holds more than that.
  const chunkSize = Math.min(run.settings.chunkSize, maxInFlight);
  const lanes = chunkSize <= 1 ? maxInFlight : Math.max(1, Math.floor(maxInFlight / chunkSize));
  const send = unitSender(run, chunkSize);
  const feed = new PageFeed(run, chunkSize, lanes, () => updateDetails(run));
  await runLanes(lanes, () => (run.mayStartMore() ? feed.next() : Promise.resolve(undefined)), send);
  updateDetails(run);
  if (run.stopped) return false;
  run.carried.cursor = feed.cursor;
  return feed.continueAsNew;
}

function unitSender(run: Run, chunkSize: number): (ids: string[]) => Promise<void> {
  if (chunkSize <= 1) {
    const sends = sendActivities(run.settings);
    return ([recipientId]) => sendOne(sends, run.sendInput(recipientId!), run);
  }
  const senders = chunkSenders(run);
  return (chunk) => sendInChunk(senders, chunk, run);
}

/** Renew the lock every third of its TTL while the run works; a failed renewal stops the run's sending. */
function keepLockAlive(run: Run): { stop(): void; done: Promise<void> } {
  const { lockTtlMs } = run.settings;
  let stopping = false;
  const done = (async () => {
    while (!stopping) {
      await condition(() => stopping, Math.max(1000, Math.floor(lockTtlMs / 3)));
      if (stopping) return;
      const held = await bookkeeping.renewLock({ jobName: run.jobName, token: run.carried.lock.token, ttlMs: lockTtlMs, runId: run.carried.runId });
      if (!held) {
        log.warn('job_lock_lost', { runId: run.carried.runId, jobName: run.jobName });
        run.loseLock();
        return;
      }
    }
  })();
  // Handled now, awaited later (after the sends): a renewal that fails or is cancelled meanwhile must not be an
  // unhandled rejection, which fails the workflow task instead of the run.
  done.catch(() => undefined);
  return { stop: () => (stopping = true), done };
}

/**
 * A run that ended normally (or was skipped) shows its ending, then records it in job_runs and in its window's
 * ledger row, and logs it (finishRun).
 */
async function finish(summary: RunSummary, how: { error?: string | undefined; redrive: boolean; needsPerson?: boolean }): Promise<RunSummary> {
  markRunEnded(summary.outcome, summary.reason, summary.counts);
  await endingRecorder.finishRun({ summary, ...(how.error ? { error: how.error } : {}), ...(how.redrive ? { redrive: true } : {}), ...(how.needsPerson ? { needsPerson: true } : {}) });
  return summary;
}
