/**
 * What a process started — servers, child processes, connections, temporary directories — stopped newest first,
 * exactly once, also when start-up failed half-way. Shared by `npm test` (scripts/run-tests.ts), `npm start`
 * (devkit/start.ts), `npm run chaos` and `npm run bench`, so none of them can leave a server running behind it.
 *
 *   const stops = new StopStack();
 *   stops.push('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
 *   const [pg, redis] = await allStarted([stops.started('postgres', startPg()), stops.started('redis', startRedis())]);
 *   …
 *   await stops.stopAll();   // redis, postgres, temp dir — whichever of them did start
 */
export interface StopStackOptions {
  /** Called before each stop (npm start prints "stopping postgres"). */
  onStopping?(name: string): void;
  /** A stop that failed; the ones below it still run. Default: ignored. */
  onError?(name: string, err: Error): void;
}

interface Entry {
  name: string;
  stop: () => unknown;
}

export class StopStack {
  private readonly entries: Entry[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: StopStackOptions = {}) {}

  /** True once stopAll() has been called (a second Ctrl-C can then exit at once). */
  get closing(): boolean {
    return this.closed;
  }

  /** Stop this at the end, before everything pushed earlier. Pushed after stopAll(), it is stopped at once. */
  push(name: string, stop: () => unknown): void {
    this.entries.push({ name, stop });
    if (this.closed) void this.stopAll();
  }

  /**
   * Await a start and register what it started the moment it is up — so when a start running alongside it
   * fails, this one is still stopped (see allStarted()).
   */
  async started<T extends { stop(): Promise<unknown> }>(name: string, starting: Promise<T>): Promise<T> {
    const thing = await starting;
    this.push(name, () => thing.stop());
    return thing;
  }

  /**
   * A crash — an exception or rejection nobody handled, e.g. a spawn error emitted by a library — still stops
   * everything started so far before the process exits (1): without this, the servers outlive it as orphans.
   */
  stopOnCrash(report: (err: unknown) => void): void {
    const crash = (err: unknown) => {
      report(err);
      void this.stopAll().finally(() => process.exit(1));
    };
    process.on('uncaughtException', crash);
    process.on('unhandledRejection', crash);
  }

  /** Stop everything, newest first; a failed stop does not keep the others from running. Safe to call again. */
  stopAll(): Promise<void> {
    this.closed = true;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (let entry = this.entries.pop(); entry; entry = this.entries.pop()) {
      this.options.onStopping?.(entry.name);
      try {
        await entry.stop();
      } catch (err) {
        this.options.onError?.(entry.name, err as Error);
      }
    }
  }
}

/**
 * Promise.all for starts running side by side, except that it first waits for every one of them to settle:
 * a failure is reported only once each start that succeeded has registered itself (StopStack.started), so
 * stopAll() after it stops them all instead of racing a start still under way.
 */
export async function allStarted<T extends readonly unknown[] | []>(starts: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  await Promise.allSettled(starts);
  return Promise.all(starts);
}
