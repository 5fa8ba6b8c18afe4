/** The pruneOldRows activity (the prune job): delete what closed windows no longer need, heartbeating per batch. */
import { Context } from '@temporalio/activity';
import { prune, type PruneResult } from '../pruning';
import type { ActivityDeps } from './deps';

export function pruneOldRowsActivity(deps: Pick<ActivityDeps, 'pool' | 'jobs' | 'logger'>) {
  return async function pruneOldRows(input: { olderThanMs: number }): Promise<PruneResult> {
    const result = await prune(deps.pool, deps.jobs.all(), { olderThanMs: input.olderThanMs, onBatch: (n) => Context.current().heartbeat(n) });
    deps.logger.info({ ...result }, 'pruned');
    return result;
  };
}
