/**
 * Background rounds of a worker process (the reaper, the window keeper): one round every `intervalMs`, never two
 * at once, a failed round logged and the next one trying again; stop() waits for the round in progress.
 */
import type { Logger } from './logger';

export interface Rounds {
  stop(): Promise<void>;
}

export function startRounds(intervalMs: number, round: () => Promise<unknown>, failed: { logger: Logger; event: string }): Rounds {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    current = current.then(async () => {
      if (stopped) return;
      await round().catch((err: Error) => failed.logger.warn({ err: err.message }, failed.event));
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
