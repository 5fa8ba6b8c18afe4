/**
 * Group commit for hot one-row statements (claims, marks, recipient loads). A call made while `parallel`
 * earlier batches are still in flight waits and then goes together with the other waiting calls in one
 * statement; a call made when the way is free runs at once, alone. So nothing waits when the worker is idle,
 * and under load N concurrent sends cost one Postgres round trip per stage instead of N — on this machine the
 * round trips, not the SQL, were the worker's biggest cost (BENCHMARKS.md, "group commit").
 *
 * Every caller still gets its own result or its own error. A batch is one statement, so it commits or fails
 * as a whole; when it fails, its items are run again one by one, so a bad item (or a deadlock victim) fails
 * alone and the others go through.
 */
export interface CoalescerOptions {
  /** Most items in one statement (a bound on its parameter arrays). */
  maxBatch: number;
  /** Statements of this kind in flight at once from this process. */
  parallel: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export class Coalescer<I, O> {
  private readonly waiting: Array<Waiting<I, O>> = [];
  private running = 0;

  constructor(
    /** Results in the order of `items`. */
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly runOne: (item: I) => Promise<O>,
    // One statement in flight per kind: measured fewer statements per email and more emails/s than two
    // (BENCHMARKS.md); a batch never waits longer than one round trip for the previous one.
    private readonly opts: CoalescerOptions = { maxBatch: 100, parallel: 1 },
  ) {}

  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.opts.parallel && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.opts.maxBatch);
      this.running++;
      void this.flush(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async flush(batch: Array<Waiting<I, O>>): Promise<void> {
    if (batch.length > 1) {
      let results: O[] | undefined;
      try {
        results = await this.runBatch(batch.map((w) => w.item));
      } catch {
        // Nothing of the batch took effect: fall through and run each item alone.
      }
      if (results) {
        batch.forEach((w, i) => w.resolve(results[i] as O));
        return;
      }
    }
    await Promise.all(
      batch.map(async (w) => {
        try {
          w.resolve(await this.runOne(w.item));
        } catch (err) {
          w.reject(err);
        }
      }),
    );
  }
}
