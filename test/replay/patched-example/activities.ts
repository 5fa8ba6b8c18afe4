/** The example's activities: each records that it ran, so a test can see which path a run took. */
export const calls: string[] = [];

export async function stepA(): Promise<void> {
  calls.push('A');
}
export async function stepB(): Promise<void> {
  calls.push('B');
}
export async function stepC(): Promise<void> {
  calls.push('C');
}
