/**
 * The built-in retention job (PRUNE_OLDER_THAN, on its own schedule `sendonce-prune`): one activity that deletes
 * what closed windows no longer need, batch by batch (src/pruning.ts). Bounded like every activity here.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PruneResult } from '../pruning';

const { pruneOldRows } = proxyActivities<Activities>({
  startToCloseTimeout: '1h',
  // It heartbeats after every batch: a worker that died is noticed in minutes, not after an hour.
  heartbeatTimeout: '2m',
  retry: { maximumAttempts: 3, initialInterval: '30s', backoffCoefficient: 2 },
});

export async function pruneWorkflow(input: { olderThanMs: number }): Promise<PruneResult> {
  return pruneOldRows(input);
}
