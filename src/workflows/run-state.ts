import type { Continuation } from './types';

/** A run's state inside one continue-as-new segment (what is carried over lives in Continuation). */
export interface RunState extends Continuation {
  workflowId: string;
  lockLost: boolean;
  fatal?: { type: string; message: string };
  /** The run stopped sending for this reason (e.g. 'rate_limiter_unavailable'); the rest is left for the next run. */
  stopReason?: string;
  /** Sends now waiting for rate-limit budget (a durable timer each). */
  waitingForRateLimit: number;
}

export const isStopped = (state: RunState): boolean => state.lockLost || state.fatal !== undefined || state.stopReason !== undefined;
