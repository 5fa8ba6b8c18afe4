/**
 * The fenceOff activity: a run that ends abnormally takes the next fence, so sends it handed out that are still
 * running are refused at their next claim (the newest fence wins) and nothing more goes out on its behalf.
 */
import { takeFence } from '../lock/fence';
import type { ActivityDeps } from './deps';

export function fenceOffActivity(deps: Pick<ActivityDeps, 'pool' | 'logger'>) {
  return async function fenceOff(input: { jobName: string; runId: string }): Promise<number> {
    const fence = await takeFence(deps.pool, input.jobName);
    deps.logger.info({ runId: input.runId, jobName: input.jobName, fence }, 'job_fenced_off');
    return fence;
  };
}
