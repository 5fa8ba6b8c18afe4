/**
 * Live progress of a run, for people watching it: the `progress` query
 * (`temporal workflow query --type progress -w <id>`, or handle.query(progressQuery)) and the workflow's
 * current details (shown by the Temporal Web UI), one line updated per page. Counts only, never addresses.
 */
import { defineQuery, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { COUNT_NAMES, zeroCounts, type RunCounts, type RunOutcome } from '../contract';
import type { Run } from './run-state';

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
  workflowId: string;
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
    workflowId: board.workflowId,
    scheduledAt: carried?.scheduledAt ?? null,
    window: carried?.window ?? null,
    status: board.outcome ? 'finished' : !run ? 'starting' : run.waitingForRateLimit > 0 ? 'waiting_for_rate_limit' : 'sending',
    outcomeSoFar: board.outcome ?? (run?.stopped ? run.outcome() : 'running'),
    // Counts carried from a run that started before a count existed lack it: it starts at 0.
    ...zeroCounts(),
    ...carried?.counts,
    waitingForRateLimit: run?.waitingForRateLimit ?? 0,
    segment: carried?.segment ?? 1,
    ...(board.recipientsRequested !== undefined ? { recipientsRequested: board.recipientsRequested } : {}),
  };
}

/** One line for the Web UI's "current details" (Temporal markdown). */
export function updateDetails(run: Run, outcome?: RunOutcome): void {
  const status = outcome ? `**${outcome}**` : run.waitingForRateLimit > 0 ? `**waiting for rate-limit budget** (${run.waitingForRateLimit})` : '**sending**';
  setCurrentDetails(detailsLine(status, run.carried.window, run.carried.counts));
}

/** `**sending** · window 2026-11-20 · processed 3 · sent 2 · …`: every count, in the contract's order. */
export function detailsLine(status: string, window: string, counts: Partial<RunCounts>): string {
  return [status, `window ${window}`, ...COUNT_NAMES.map((name) => `${name} ${counts[name] ?? 0}`)].join(' · ');
}
