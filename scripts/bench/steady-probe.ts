/**
 * Development probe, not part of `npm run bench`: steady-state ticks (every key of the window already `sent`) at
 * any size, without sending the window first — the keys are written by SQL, as a sending tick would leave them.
 * For finding where a steady tick's time goes at 100,000 when a sending tick of that size would take too long
 * (a busy machine). Its figures are a probe's, not the report's.
 *
 *   node --import tsx scripts/bench/steady-probe.ts          PROBE_SIZES=10000,100000  PROBE_REPS=2
 */
import pg from 'pg';
import { log } from './config';
import { openContext } from './context';
import { TickDriver } from './sendonce';
import { eligible, seedUsers, stops } from './services';
import { benchWorker, measureTick } from './ticks';

const sizes = (process.env.PROBE_SIZES ?? '10000,100000').split(',').map(Number);
const reps = Number(process.env.PROBE_REPS ?? 2);

async function main(): Promise<void> {
  const ctx = await openContext(log);
  const { stack } = ctx;
  const db = { name: 'bench_probe', url: await stack.createDatabase('bench_probe') };
  await seedUsers(db.url, Math.max(...sizes));
  // Today's daily window (UTC), as the tick below computes it: every user's key already sent.
  const window = new Date().toISOString().slice(0, 10);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO sendonce.email_sends (idempotency_key, job_name, template, recipient_id, window_key, state, attempts, fence, run_id, message_id)
       SELECT 'email:daily-digest:' || id || ':' || $1, 'bench-digest', 'daily-digest', id::text, $1, 'sent', 1, 1, 'probe-prefill', 'm' || id FROM users`,
      [window],
    );
    await c.query('VACUUM ANALYZE sendonce.email_sends');
  } finally {
    await c.end();
  }
  const driver = await TickDriver.connect(stack.temporal.address);
  stops.push('tick driver', () => driver.close());
  const taskQueue = `bench-probe-${Date.now()}`;
  const worker = await benchWorker(ctx, db, 'probe', taskQueue, { SMTP_MAX_CONNECTIONS: '50' });
  for (const recipients of sizes) {
    await eligible(db.url, recipients);
    for (let i = 0; i < reps; i++) {
      await measureTick(ctx, driver, [worker], db, taskQueue, { recipients, variant: 'probe', deadlineMs: 300_000, kind: 'steady', window });
    }
  }
}

main().then(
  async () => {
    await stops.stopAll();
    process.exit(0);
  },
  async (err: unknown) => {
    console.error(err);
    await stops.stopAll();
    process.exit(1);
  },
);
