import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import type { BatchInput } from '../contract';

/**
 * Set by the schedule on every run it starts: the tick's NOMINAL time (pre-jitter, UTC, whole seconds).
 * Backfills get the nominal time of the tick they replay; a manual trigger gets the time it was requested.
 */
export const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
export const SCHEDULED_BY_ID = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/**
 * The time the window is computed from — never the worker's clock. Order: the schedule's search attribute,
 * then an explicit `scheduledAt` input (runs started by hand), then the workflow's start time.
 */
export function nominalTime(input: Pick<BatchInput, 'scheduledAt'>): Date {
  const fromSchedule = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_TIME);
  if (fromSchedule) return fromSchedule;
  if (input.scheduledAt) return new Date(input.scheduledAt);
  return workflowInfo().startTime;
}
