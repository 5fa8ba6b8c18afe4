/**
 * limit: the naive pipeline, no orchestrator. One process pages through the eligible users (keyset, 1,000 at a
 * time) and runs `concurrency` lanes of claim → SMTP → mark (pipeline.ts) over a pooled nodemailer transport
 * with `concurrency` connections. No retries, no lock, no run record: the ceiling for this work on this machine.
 */
import { createPool } from '../../src/db/pool';
import { createSmtpPool } from '../../src/delivery/smtp/connection-pool';
import { childMain, runChild, type ChildRun } from './child';
import { claimSendMark, recipientPage, type BenchRecipient } from './pipeline';

export interface LoadResult {
  sent: number;
  duplicates: number;
  startedAt: number;
  wallMs: number;
}

export function runNaive(opts: { dbUrl: string; smtpPort: number; concurrency: number }, onStart?: (pid: number) => void): Promise<ChildRun<LoadResult>> {
  return runChild<LoadResult>(__filename, {
    BENCH_DB_URL: opts.dbUrl,
    BENCH_SMTP_PORT: String(opts.smtpPort),
    BENCH_CONCURRENCY: String(opts.concurrency),
  }, onStart);
}

async function main(): Promise<LoadResult> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY);
  const pool = createPool(process.env.BENCH_DB_URL!, concurrency + 1);
  const transport = createSmtpPool({
    host: '127.0.0.1',
    port: Number(process.env.BENCH_SMTP_PORT),
    secure: false,
    maxConnections: concurrency,
    socketTimeoutMs: 30_000,
  });
  const runId = `naive-${process.pid}-${Date.now()}`;
  let sent = 0;
  let duplicates = 0;
  const startedAt = Date.now();
  let buffer: BenchRecipient[] = [];
  let cursor: string | null = null;
  let exhausted = false;
  let refill: Promise<void> | undefined;
  const next = async (): Promise<BenchRecipient | undefined> => {
    while (buffer.length === 0 && !exhausted) {
      refill ??= recipientPage(pool, cursor, 1000).then((page) => {
        buffer = page;
        if (page.length < 1000) exhausted = true;
        if (page.length > 0) cursor = page[page.length - 1]!.id;
        refill = undefined;
      });
      await refill;
    }
    return buffer.shift();
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let r = await next(); r; r = await next()) {
        if ((await claimSendMark(pool, transport, r, runId)) === 'sent') sent++;
        else duplicates++;
      }
    }),
  );
  const wallMs = Date.now() - startedAt;
  transport.close();
  await pool.end();
  return { sent, duplicates, startedAt, wallMs };
}

if (process.argv.includes('--child')) childMain(main);
