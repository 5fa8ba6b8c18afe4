/**
 * Live progress of a run, for people watching it: the `progress` query
 * (`temporal workflow query --type progress -w <id>`, or handle.query(progressQuery)) and the workflow's
 * current details (shown by the Temporal Web UI), one line updated per page. Counts only, never addresses.
 */
import { defineQuery, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { zeroCounts, type RunCounts, type RunOutcome } from '../contract';
import type { Run } from './run';

export interface RunProgress extends RunCounts {
  jobName: string;
  workflowId: string;
  scheduledAt: string | null;
  window: string | null;
  /** What the run is doing now: starting, sending, waiting_for_rate_limit, or finished. */
  status: 'starting' | 'sending' | 'waiting_for_rate_limit' | 'finished';
  /** 'running' until the run ends; a stopped or failed run says so as soon as it knows. */
  outcomeSoFar: RunOutcome | 'running';
  /** Sends waiting for rate-limit budget right now. */
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
  run?: Run;
  outcome?: RunOutcome;
  recipientsRequested?: number;
}

export function registerProgressQuery(board: ProgressBoard): void {
  setHandler(progressQuery, () => progressOf(board));
}

export function progressOf(board: ProgressBoard): RunProgress {
  const run = board.run;
  const carried = run?.carried;
  return {
    jobName: board.jobName,
    workflowId: workflowInfo().workflowId,
    scheduledAt: carried?.scheduledAt ?? null,
    window: carried?.window ?? null,
    status: board.outcome ? 'finished' : !run ? 'starting' : run.waitingForRateLimit > 0 ? 'waiting_for_rate_limit' : 'sending',
    outcomeSoFar: board.outcome ?? (run?.stopped ? run.outcome() : 'running'),
    ...(carried?.counts ?? zeroCounts()),
    waitingForRateLimit: run?.waitingForRateLimit ?? 0,
    segment: carried?.segment ?? 1,
    ...(board.recipientsRequested !== undefined ? { recipientsRequested: board.recipientsRequested } : {}),
  };
}

/** One line for the Web UI's "current details" (Temporal markdown). */
export function updateDetails(run: Run, outcome?: RunOutcome): void {
  const c = run.carried.counts;
  const status = outcome ? `**${outcome}**` : run.waitingForRateLimit > 0 ? `**waiting for rate-limit budget** (${run.waitingForRateLimit})` : '**sending**';
  setCurrentDetails(
    `${status} · window ${run.carried.window} · processed ${c.processed} · sent ${c.sent} · deduped ${c.deduped} · ` +
      `dead ${c.dead} · unknown ${c.unknown} · suppressed ${c.suppressed ?? 0}`,
  );
}
