import { patched, proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';

export async function example(): Promise<string> {
  const { stepA, stepB, stepC } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
  await stepA();
  // New in this release: old runs (recorded without stepC) replay the old path, new runs take the new one.
  if (patched('add-step-c')) await stepC();
  await stepB();
  return 'done';
}
