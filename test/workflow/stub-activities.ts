/**
 * Stubbed activities for workflow tests: the batch workflow runs for real on the shared Temporal dev server,
 * against in-memory activities whose behaviour each test sets. This reaches the workflow's branches (fenced,
 * chunk timeout, run-fatal, dead letters, rate-limit waits, continue-as-new) directly, without whole-stack runs;
 * what the activities themselves do is tested on real services elsewhere.
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import {
  chunkTaskQueue,
  type ChunkInput,
  type ChunkItemResult,
  type RunSettings,
  type RunSummary,
  type SendInput,
  type SendResult,
  type SendState,
} from '../../src/contract';
import { DEFAULT_RETRY, isRetryable } from '../../src/retry';
import { SendonceWorker } from '../../src/sendonce-worker';
import { workflowBundle } from '../support/harness';
import { temporalAddress } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';

export const TEST_SETTINGS: RunSettings = {
  pageSize: 10,
  maxInFlight: 20,
  lockTtlMs: 60_000,
  retry: { ...DEFAULT_RETRY, maximumAttempts: 3, initialIntervalMs: 100, maximumIntervalMs: 200, attemptTimeoutMs: 2_000, totalTimeoutMs: 30_000 },
  chunkSize: 5,
  continueAsNewAfterEvents: 4_000,
  timeBudgetMs: 60_000,
};

export interface StubBehaviour {
  recipients: string[];
  settings?: Partial<RunSettings>;
  /** One recipient's send (per-recipient path, and each item of a chunk unless `chunk` is set). */
  send?(input: SendInput, attempt: number): Promise<SendResult>;
  /** A whole chunk; default: `send` for each item (a thrown error becomes a 'failed' item, as the real one does). */
  chunk?(input: ChunkInput): Promise<ChunkItemResult[]>;
  deadLetterState?: SendState;
}

/** What the stubs saw: a test asserts on these. */
export interface StubLog {
  summaries: Array<{ summary: RunSummary; error?: string }>;
  chunks: ChunkInput[];
  sends: SendInput[];
  deadLetters: Array<SendInput & { errorType: string }>;
  released: number;
  fencedOff: number;
  pagesFetched: number;
}

export function stubActivities(b: StubBehaviour): { activities: Activities; log: StubLog } {
  const log: StubLog = { summaries: [], chunks: [], sends: [], deadLetters: [], released: 0, fencedOff: 0, pagesFetched: 0 };
  const settings = { ...TEST_SETTINGS, ...b.settings };
  const send = b.send ?? (async (): Promise<SendResult> => ({ outcome: 'sent', attempt: Context.current().info.attempt }));
  const stub: Partial<Activities> = {
    async startRun() {
      return { window: '2026-11-20', settings };
    },
    async acquireLock() {
      return { acquired: true, token: 'token-1', fence: 7 };
    },
    async renewLock() {
      return true;
    },
    async fenceOff() {
      log.fencedOff++;
      return 8;
    },
    async releaseLock() {
      log.released++;
      return true;
    },
    async fetchRecipientPage({ afterId, limit }) {
      log.pagesFetched++;
      const start = afterId === null ? 0 : b.recipients.indexOf(afterId) + 1;
      const ids = b.recipients.slice(start, start + limit);
      return { toSend: ids, lastId: ids[ids.length - 1] ?? null, size: ids.length, finished: { deduped: 0, sent: 0, dead: 0, unknown: 0 } };
    },
    async sendEmail(input) {
      log.sends.push(input);
      return send(input, Context.current().info.attempt);
    },
    async sendChunk(input) {
      log.chunks.push(input);
      if (b.chunk) return b.chunk(input);
      const { recipientIds, ...common } = input;
      return Promise.all(
        recipientIds.map(async (recipientId): Promise<ChunkItemResult> => {
          try {
            return { recipientId, ...(await send({ ...common, recipientId }, 1)) };
          } catch (err) {
            const e = err as Error;
            return { recipientId, outcome: 'failed', attempt: 1, error: { type: e.name, message: e.message, retryable: isRetryable(e.name) } };
          }
        }),
      );
    },
    async recordDeadLetter(input) {
      log.deadLetters.push(input);
      return b.deadLetterState ?? 'dead';
    },
    async finishRun(input) {
      log.summaries.push(input);
    },
  };
  return { activities: stub as Activities, log };
}

let runtimeInstalled = false;
/** Failed stub activities are expected here: keep the SDK's per-failure warnings out of the test output. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/** Run `fn` with workers polling a fresh task queue (and its chunk queue) with these activities; they stop afterwards. */
export async function withStubWorker<T>(activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = uniqueName('wf-tq');
  try {
    const main = await Worker.create({ connection, taskQueue, workflowBundle: await workflowBundle(), activities });
    const chunks = await Worker.create({ connection, taskQueue: chunkTaskQueue(taskQueue), activities });
    const worker = new SendonceWorker(main, chunks);
    const running = worker.run();
    try {
      return await fn(taskQueue);
    } finally {
      worker.shutdown();
      await running;
    }
  } finally {
    await connection.close();
  }
}
