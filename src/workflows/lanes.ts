/**
 * `lanes` loops, each taking the next item from `next()` until it returns undefined — the bound that keeps a
 * run far below Temporal's 2,000-activities-in-flight failure. Deterministic: plain promises, no timers.
 */
export async function runLanes<T>(lanes: number, next: () => T | undefined | Promise<T | undefined>, fn: (item: T) => Promise<void>): Promise<void> {
  const lane = async () => {
    for (let item = await next(); item !== undefined; item = await next()) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
}

/**
 * Run `fn` over `items` with at most `limit` in flight. Stops starting new items once `stopped()` is true;
 * items already started finish.
 */
export async function eachInLanes<T>(
  items: readonly T[],
  limit: number,
  stopped: () => boolean,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let at = 0;
  const next = () => (at < items.length && !stopped() ? items[at++] : undefined);
  await runLanes(Math.min(limit, items.length), next, fn);
}
