/**
 * The built-in retention job (PRUNE_OLDER_THAN, on its own schedule `sendonce-prune`): one activity that deletes
 * what closed windows no longer need, batch by batch (src/pruning.ts). Bounded like every activity here.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PruneResult } from '../pruning';
import { PRUNE_ACTIVITY_OPTIONS } from '../retry';

const { pruneOldRows } = proxyActivities<Activities>(PRUNE_ACTIVITY_OPTIONS);

export async function pruneWorkflow(input: { olderThanMs: number }): Promise<PruneResult> {
  return pruneOldRows(input);
}
