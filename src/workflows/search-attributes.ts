/**
 * What the Temporal Web UI's workflow list can filter and show for each run: custom search attributes, set by the
 * run itself — job and window when it starts (outcome `running`), outcome, reason and counts when it ends — so
 * `SendonceOutcome = "lock_lost"` or `SendonceJob = "daily-digest" AND SendonceDead > 0` finds the ticks that
 * matter among the green "Completed" ones. Counts only, never an address (search attributes are not encrypted).
 *
 * The attributes must be registered in the namespace (a workflow that sets an unknown one fails its workflow
 * task): the dev servers we start register them (`--search-attribute`), `sendonce setup` does it elsewhere, and
 * the worker refuses to start without them (src/visibility.ts). Workflow-safe: no I/O.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { RunCounts, RunOutcome, RunReason } from '../contract';

export const SENDONCE_JOB = defineSearchAttributeKey('SendonceJob', SearchAttributeType.KEYWORD);
export const SENDONCE_WINDOW = defineSearchAttributeKey('SendonceWindow', SearchAttributeType.KEYWORD);
/** `running` until the run ends, then its outcome (completed, skipped, lock_lost, stopped, failed, cancelled). */
export const SENDONCE_OUTCOME = defineSearchAttributeKey('SendonceOutcome', SearchAttributeType.KEYWORD);
/** Why it was skipped, stopped or failed (locked, locked_no_expiry, time_budget, …); absent otherwise. */
export const SENDONCE_REASON = defineSearchAttributeKey('SendonceReason', SearchAttributeType.KEYWORD);
export const SENDONCE_SENT = defineSearchAttributeKey('SendonceSent', SearchAttributeType.INT);
export const SENDONCE_DEAD = defineSearchAttributeKey('SendonceDead', SearchAttributeType.INT);
export const SENDONCE_UNKNOWN = defineSearchAttributeKey('SendonceUnknown', SearchAttributeType.INT);

/** Every attribute with its type, for registering them (dev server flags, `sendonce setup`, the worker's check). */
export const SEARCH_ATTRIBUTES = [SENDONCE_JOB, SENDONCE_WINDOW, SENDONCE_OUTCOME, SENDONCE_REASON, SENDONCE_SENT, SENDONCE_DEAD, SENDONCE_UNKNOWN];

/**
 * Runs already in flight when this code is deployed replay histories without these upserts: the patch marker keeps
 * them deterministic (they simply never get the attributes).
 */
const enabled = () => patched('sendonce-search-attributes');

/** At the start of a run (and of each continue-as-new segment): which job and window, still running. */
export function markRunStarted(jobName: string, window: string): void {
  if (!enabled()) return;
  upsertSearchAttributes([
    { key: SENDONCE_JOB, value: jobName },
    { key: SENDONCE_WINDOW, value: window },
    { key: SENDONCE_OUTCOME, value: 'running' },
  ]);
}

/**
 * The memo (shown on a run's page in the Web UI, no registration needed): a follow-up run says which one it is,
 * and a run that left its window unfinished says so and where to look. Patched like the attributes above.
 */
const memoEnabled = () => patched('sendonce-window-memo');

/** At the start of a follow-up run (src/windows/keeper.ts). */
export function markFollowUp(followUp: number): void {
  if (memoEnabled()) upsertMemo({ sendonceFollowUp: followUp });
}

/** When the run ends: its outcome, the reason (if any) and the counts that need a person's eye. */
export function markRunEnded(outcome: RunOutcome, reason: RunReason | undefined, counts: RunCounts): void {
  if (outcome !== 'completed' && outcome !== 'skipped' && memoEnabled()) {
    upsertMemo({ sendonceWindow: 'left unfinished: a follow-up run sends the rest before its deadline, or they are recorded expired (sendonce windows)' });
  }
  if (!enabled()) return;
  upsertSearchAttributes([
    { key: SENDONCE_OUTCOME, value: outcome },
    { key: SENDONCE_REASON, value: reason ?? null },
    { key: SENDONCE_SENT, value: counts.sent },
    { key: SENDONCE_DEAD, value: counts.dead },
    { key: SENDONCE_UNKNOWN, value: counts.unknown },
  ]);
}
