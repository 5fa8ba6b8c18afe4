/**
 * A failure as a run sees it, in one shape for the failure branch, the retry rules and the run's own error: the
 * error's type (for an activity, the error class it threw) and its message, without addresses.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { FailureDescription } from '../contract';

export function describeFailure(err: unknown): FailureDescription {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : (cause?.name ?? 'ActivityFailure');
    return { type, message: cause?.message ?? err.message };
  }
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'Error', message: err.message };
  return { type: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
}

/** The same, naming the activity that failed: what a run that ends on this error reports. */
export function describeRunError(err: unknown): FailureDescription {
  const failure = describeFailure(err);
  return err instanceof ActivityFailure ? { ...failure, message: `${err.activityType}: ${failure.message}` } : failure;
}
