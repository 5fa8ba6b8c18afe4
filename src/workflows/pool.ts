/**
 * Run `fn` over `items` with at most `limit` in flight — the bound that keeps a run far below Temporal's
 * 2,000-activities-in-flight failure. Stops starting new items once `stopped()` is true; items already
 * started finish. Deterministic: plain promises, no timers.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  stopped: () => boolean,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stopped()) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** `lanes` loops, each taking the next item from `next()` until it returns undefined. */
export async function runLanes<T>(lanes: number, next: () => Promise<T | undefined>, fn: (item: T) => Promise<void>): Promise<void> {
  const lane = async () => {
    for (let item = await next(); item !== undefined; item = await next()) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
}
