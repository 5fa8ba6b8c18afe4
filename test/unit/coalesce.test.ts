import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer } from '../../src/db/coalesce';

/** A batch runner that records what it was called with and resolves when released. */
function recorder() {
  const batches: number[][] = [];
  const singles: number[] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  return {
    batches,
    singles,
    open() {
      release();
    },
    close() {
      gate = new Promise<void>((r) => (release = r));
    },
    async runBatch(items: number[]) {
      batches.push(items);
      await gate;
      if (items.includes(13)) throw new Error('batch with 13');
      return items.map((i) => i * 10);
    },
    async runOne(item: number) {
      singles.push(item);
      await gate;
      if (item === 13) throw new Error('13 is bad');
      return item * 10;
    },
  };
}

test('a lone call runs at once, alone; calls made while it is in flight go together in one batch', async () => {
  const r = recorder();
  const c = new Coalescer<number, number>((xs) => r.runBatch(xs), (x) => r.runOne(x), { maxBatch: 100, parallel: 1 });
  const first = c.run(1);
  assert.deepEqual(r.singles, [1], 'started without waiting for company');
  const rest = [2, 3, 4].map((x) => c.run(x));
  assert.deepEqual(r.batches, [], 'waiting while the first statement is in flight');
  r.open();
  assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40], 'each caller gets its own result');
  assert.deepEqual(r.batches, [[2, 3, 4]]);
});

test('maxBatch bounds a statement; parallel bounds statements in flight', async () => {
  const r = recorder();
  const c = new Coalescer<number, number>((xs) => r.runBatch(xs), (x) => r.runOne(x), { maxBatch: 2, parallel: 2 });
  const all = [1, 2, 3, 4, 5, 6].map((x) => c.run(x));
  assert.deepEqual(r.singles, [1, 2], 'two in flight at once, each alone');
  r.open();
  assert.deepEqual(await Promise.all(all), [10, 20, 30, 40, 50, 60]);
  assert.deepEqual(r.batches, [[3, 4], [5, 6]]);
});

test('a failed batch is run again item by item: only the bad item fails', async () => {
  const r = recorder();
  const c = new Coalescer<number, number>((xs) => r.runBatch(xs), (x) => r.runOne(x), { maxBatch: 100, parallel: 1 });
  const first = c.run(1);
  const rest = [12, 13, 14].map((x) => c.run(x));
  r.open();
  const settled = await Promise.allSettled([first, ...rest]);
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  assert.match(String((settled[2] as PromiseRejectedResult).reason), /13 is bad/);
  assert.deepEqual(r.batches, [[12, 13, 14]]);
  assert.deepEqual(r.singles, [1, 12, 13, 14]);
});
