/** The activity proxies of a batch run; every one bounded in attempts and total time (src/retry.ts). */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { chunkTaskQueue, type RunSettings } from '../contract';
import { BOOKKEEPING_ACTIVITY_OPTIONS, chunkActivityOptions, ENDING_ACTIVITY_OPTIONS, sendActivityOptions } from '../retry';

/** Bookkeeping activities (run rows, lock, pages, dead letters). */
export const bookkeeping = proxyActivities<Activities>(BOOKKEEPING_ACTIVITY_OPTIONS);

/** Recording the run's ending (finishRun), patient enough to outlast a short database outage. */
export const endingRecorder = proxyActivities<Activities>(ENDING_ACTIVITY_OPTIONS);

/** Per-recipient send activities; `attemptsUsed` = attempts the recipient already had (see sendActivityOptions). */
export function sendActivities(settings: RunSettings, attemptsUsed = 0) {
  return proxyActivities<Activities>(sendActivityOptions(settings.retry, attemptsUsed));
}

export type SendActivities = ReturnType<typeof sendActivities>;

/** The chunk activity (see chunkActivityOptions), on the chunk task queue: at most a few per worker at once. */
export function chunkActivities(settings: RunSettings) {
  return proxyActivities<Activities>({ ...chunkActivityOptions(settings.retry, settings.chunkSize), taskQueue: chunkTaskQueue(workflowInfo().taskQueue) });
}
