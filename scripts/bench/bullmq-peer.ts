/**
 * peer: the same claim → SMTP → mark work driven by BullMQ (seed 002's stack): the producer adds one job per
 * recipient (addBulk, pages of 1,000 read by keyset), a BullMQ Worker with `concurrency` processes them on the
 * same Redis, with bounded retries (attempts 5, exponential backoff) and completed jobs removed.
 * Producer and worker share one process (its RSS is the peer's "worker RSS").
 */
import { Queue, Worker } from 'bullmq';
import { createPool } from '../../src/db/pool';
import { createSmtpPool } from '../../src/delivery/smtp/connection-pool';
import { childMain, runChild, type ChildRun } from './child';
import type { LoadResult } from './naive';
import { claimSendMark, recipientPage, type BenchRecipient } from './pipeline';

export function runPeer(
  opts: { dbUrl: string; smtpPort: number; redisUrl: string; concurrency: number },
  onStart?: (pid: number) => void,
): Promise<ChildRun<LoadResult>> {
  return runChild<LoadResult>(__filename, {
    BENCH_DB_URL: opts.dbUrl,
    BENCH_SMTP_PORT: String(opts.smtpPort),
    BENCH_REDIS_URL: opts.redisUrl,
    BENCH_CONCURRENCY: String(opts.concurrency),
  }, onStart);
}

async function main(): Promise<LoadResult> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY);
  const url = new URL(process.env.BENCH_REDIS_URL!);
  const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
  const queueName = `bench-${process.pid}-${Date.now()}`;
  const pool = createPool(process.env.BENCH_DB_URL!, concurrency + 2);
  const transport = createSmtpPool({
    host: '127.0.0.1',
    port: Number(process.env.BENCH_SMTP_PORT),
    secure: false,
    maxConnections: concurrency,
    socketTimeoutMs: 30_000,
  });
  const runId = `peer-${process.pid}`;
  const queue = new Queue<BenchRecipient>(queueName, { connection });
  let sent = 0;
  let duplicates = 0;
  let done = 0;
  let total = -1;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));
  const check = () => {
    if (total >= 0 && done >= total) resolveDone();
  };
  const worker = new Worker<BenchRecipient, string>(
    queueName,
    async (job) => claimSendMark(pool, transport, job.data, runId),
    { connection, concurrency, autorun: true },
  );
  worker.on('completed', (_job, outcome) => {
    if (outcome === 'sent') sent++;
    else duplicates++;
    done++;
    check();
  });
  worker.on('failed', (job) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      done++;
      check();
    }
  });
  await worker.waitUntilReady();
  const startedAt = Date.now();
  let cursor: string | null = null;
  let added = 0;
  for (;;) {
    const page = await recipientPage(pool, cursor, 1000);
    if (page.length === 0) break;
    if (process.env.BENCH_DEBUG) console.error(`peer: adding ${page.length}`);
    await queue.addBulk(
      page.map((r) => ({
        name: 'send',
        data: r,
        opts: { jobId: `email-${r.id}`, attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: 1000 },
      })),
    );
    added += page.length;
    cursor = page[page.length - 1]!.id;
    if (page.length < 1000) break;
  }
  total = added;
  if (process.env.BENCH_DEBUG) setInterval(() => console.error(`peer: done ${done}/${total}, sent ${sent}`), 1000).unref();
  check();
  await finished;
  const wallMs = Date.now() - startedAt;
  // Best-effort clean-up, bounded: the parent stops this process right after the result anyway.
  const cleanup = (async () => {
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
    transport.close();
    await pool.end();
  })().catch(() => undefined);
  await Promise.race([cleanup, new Promise((r) => setTimeout(r, 3_000))]);
  return { sent, duplicates, startedAt, wallMs };
}

if (process.argv.includes('--child')) childMain(main);
