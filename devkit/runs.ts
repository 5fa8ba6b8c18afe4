/**
 * Batch runs started by hand, as a schedule tick would start them but with a nominal time of our choosing
 * (tests, chaos scenarios), and the continue-as-new chain a run leaves behind (tests, benchmark).
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId, WorkflowStartOptions } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
// Imported as a value only for its name and type: the client starts the workflow type `batchWorkflow`,
// the workflow code itself runs in a worker's sandbox.
import { batchWorkflow } from '../src/workflows';
import { uniqueName } from './databases';

export type BatchRunHandle = WorkflowHandleWithFirstExecutionRunId<typeof batchWorkflow>;

export interface BatchRunOptions extends Pick<WorkflowStartOptions, 'workflowExecutionTimeout' | 'staticSummary' | 'staticDetails'> {
  taskQueue: string;
  jobName: string;
  /** The tick's nominal time (ISO): it decides the window, hence the keys. Default: now. */
  scheduledAt?: string;
  /** Default: `<jobName>-run_<random>`. */
  workflowId?: string;
}

/** Start one batch run of `jobName` (no schedule); `handle.result()` is its run summary. */
export function startBatchRun(client: Client, options: BatchRunOptions): Promise<BatchRunHandle> {
  const { taskQueue, jobName, scheduledAt, workflowId, ...rest } = options;
  return client.workflow.start(batchWorkflow, {
    ...rest,
    taskQueue,
    workflowId: workflowId ?? uniqueName(`${jobName}-run`),
    args: [{ jobName, scheduledAt: scheduledAt ?? new Date().toISOString() }],
  });
}

export interface ChainRun {
  runId: string;
  /** Events in this run's history. */
  events: number;
}

/**
 * Every run of a workflow's continue-as-new chain, first to last, with its history length: follows each run's
 * closing WorkflowExecutionContinuedAsNew event to the next run id (no visibility queries, so no indexing lag).
 */
export async function historyChain(client: Client, workflowId: string, firstRunId: string, maxRuns = 100): Promise<ChainRun[]> {
  const runs: ChainRun[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    if (runs.length >= maxRuns) throw new Error(`${workflowId}: continue-as-new chain longer than ${maxRuns} runs`);
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    runs.push({ runId, events: events.length });
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}
