// The example workflow as first released: A, then B.
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';

export async function example(): Promise<string> {
  const { stepA, stepB } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
  await stepA();
  await stepB();
  return 'done';
}
