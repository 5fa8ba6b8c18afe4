/**
 * How a run that did not finish normally still says what it did. The workflow records its own ending whenever
 * its code still runs — an activity out of retries, a bad recipient page, a bug, a cancellation — in a
 * non-cancellable scope: job_runs row and `job_run_finished` line (the finishRun activity), the job's fence
 * bumped so that sends this run handed out and that are still running are refused at their next claim, and
 * the lock released. Endings where no workflow code runs (terminate, the schedule's run timeout) are closed by
 * the reaper (src/runs/reaper.ts). Each step is best effort: when Postgres is down too, the reaper closes the
 * row later.
 */
import { ApplicationFailure, CancellationScope, isCancellation, log, TemporalFailure } from '@temporalio/workflow';
import { zeroCounts, type RunOutcome } from '../contract';
import { failureReason } from '../errors';
import { bookkeeping, endingRecorder } from './activity-proxies';
import { describeRunError } from './failure';
import { markRunEnded } from './search-attributes';
import { runSummary, type Ending } from './summary';

/** Record the ending of `err`, then give back the error to end the workflow with. */
export async function endAbnormally(ending: Ending, err: unknown): Promise<unknown> {
  const outcome: RunOutcome = isCancellation(err) ? 'cancelled' : 'failed';
  const error = describeRunError(err);
  const reason = outcome === 'failed' ? failureReason(error.type) : undefined;
  markRunEnded(outcome, reason, ending.run?.carried.counts ?? zeroCounts());
  await CancellationScope.nonCancellable(async () => {
    const { run } = ending;
    if (run) {
      await bestEffort('fence_off', () => bookkeeping.fenceOff({ jobName: ending.jobName, runId: run.carried.runId }));
      if (!run.lockLost) await bestEffort('release_lock', () => bookkeeping.releaseLock({ jobName: ending.jobName, token: run.carried.lock.token }));
    }
    const identity = run?.carried ?? ending.identity;
    if (!identity) return; // the run's row was never written (startRun failed): nothing to close
    const summary = runSummary(ending, identity, outcome, reason);
    // A cancel is a person's decision, and a failure with a reason of its own (a job's page out of order) would
    // only fail again: neither is followed up by itself. Anything else (an activity out of retries) is.
    const needsPerson = outcome === 'cancelled' || reason !== undefined;
    const redrive = Boolean(ending.redrive);
    await bestEffort('finish_run', () =>
      endingRecorder.finishRun({ summary, error: `${error.type}: ${error.message}`, ...(redrive ? { redrive } : {}), ...(needsPerson ? { needsPerson } : {}) }),
    );
  });
  // Temporal failures end the workflow as they are (failed, or cancelled); anything else would fail only the
  // workflow task and retry it forever, holding the schedule: fail the workflow with it instead.
  return err instanceof TemporalFailure ? err : ApplicationFailure.nonRetryable(error.message, error.type);
}

async function bestEffort(step: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.error('run_ending_step_failed', { step, error: describeRunError(err).message });
  }
}
