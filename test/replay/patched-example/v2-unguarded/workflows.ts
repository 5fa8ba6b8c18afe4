// The same change as v2-patched, without the guard: a run recorded with v1 cannot replay on it.
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';

export async function example(): Promise<string> {
  const { stepA, stepB, stepC } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
  await stepA();
  await stepC();
  await stepB();
  return 'done';
}
