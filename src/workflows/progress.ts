/**
 * Live progress of a run, for people watching it: the `progress` query
 * (`temporal workflow query --type progress -w <id>`, or handle.query(progressQuery)) and the workflow's
 * current details (shown by the Temporal Web UI), one line updated per page. Counts only, never addresses.
 */
import { defineQuery, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RunState } from './run-state';
import type { RunOutcome } from './types';

export interface RunProgress {
  jobName: string;
  workflowId: string;
  scheduledAt: string | null;
  window: string | null;
  /** What the run is doing now: starting, sending, waiting_for_rate_limit, or finished. */
  status: 'starting' | 'sending' | 'waiting_for_rate_limit' | 'finished';
  /** 'running' until the run ends; a stopped or failed run says so as soon as it knows. */
  outcomeSoFar: RunOutcome | 'running';
  processed: number;
  sent: number;
  deduped: number;
  dead: number;
  unknown: number;
  failed: number;
  ineligible: number;
  /** Times a send waited for rate-limit budget, and how many wait right now. */
  rateLimitedWaits: number;
  waitingForRateLimit: number;
  /** Continue-as-new segment (1 = first). */
  segment: number;
  /** Redrive runs: how many recipients were asked for. */
  recipientsRequested?: number;
}

export const progressQuery = defineQuery<RunProgress>('progress');

/** What the query reads; batch.ts fills it in as the run goes. */
export interface ProgressBoard {
  jobName: string;
  state?: RunState;
  outcome?: RunOutcome;
  recipientsRequested?: number;
}

export function registerProgressQuery(board: ProgressBoard): void {
  setHandler(progressQuery, () => progressOf(board));
}

export function progressOf(board: ProgressBoard): RunProgress {
  const s = board.state;
  const stats = s?.stats;
  return {
    jobName: board.jobName,
    workflowId: workflowInfo().workflowId,
    scheduledAt: s?.scheduledAt ?? null,
    window: s?.window ?? null,
    status: board.outcome ? 'finished' : !s ? 'starting' : s.waitingForRateLimit > 0 ? 'waiting_for_rate_limit' : 'sending',
    outcomeSoFar: board.outcome ?? (s?.lockLost ? 'lock_lost' : s?.fatal ? 'failed' : s?.stopReason ? 'stopped' : 'running'),
    processed: stats?.processedCount ?? 0,
    sent: stats?.sentCount ?? 0,
    deduped: stats?.skippedDedupeCount ?? 0,
    dead: stats?.deadLetteredCount ?? 0,
    unknown: stats?.unknownCount ?? 0,
    failed: stats?.failedCount ?? 0,
    ineligible: stats?.ineligibleCount ?? 0,
    rateLimitedWaits: stats?.rateLimitedWaits ?? 0,
    waitingForRateLimit: s?.waitingForRateLimit ?? 0,
    segment: s?.segment ?? 1,
    ...(board.recipientsRequested !== undefined ? { recipientsRequested: board.recipientsRequested } : {}),
  };
}

/** One line for the Web UI's "current details" (Temporal markdown). */
export function updateDetails(state: RunState, outcome?: RunOutcome): void {
  const st = state.stats;
  const status = outcome ? `**${outcome}**` : state.waitingForRateLimit > 0 ? `**waiting for rate-limit budget** (${state.waitingForRateLimit})` : '**sending**';
  setCurrentDetails(
    `${status} · window ${state.window} · processed ${st.processedCount} · sent ${st.sentCount} · deduped ${st.skippedDedupeCount} · ` +
      `dead ${st.deadLetteredCount} · unknown ${st.unknownCount}`,
  );
}
