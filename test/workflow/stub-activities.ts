/**
 * Stubbed activities for workflow tests: the batch workflow runs for real on the shared Temporal dev server,
 * against in-memory activities whose behaviour each test sets. This reaches the workflow's branches (fenced,
 * chunk timeout, run-fatal, dead letters, rate-limit waits, continue-as-new) directly, without whole-stack runs;
 * what the activities themselves do is tested on real services elsewhere.
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import type { Activities } from '../../src/activities';
import type { PageRequest } from '../../src/activities/fetch-recipient-page';
import {
  chunkTaskQueue,
  type BatchInput,
  type ChunkInput,
  type ChunkItemResult,
  type RecipientPage,
  type RunSettings,
  type RunSummary,
  type SendInput,
  type SendResult,
  type SendState,
} from '../../src/contract';
import { DEFAULT_RETRY, isRetryable } from '../../src/retry';
import { SendonceWorker } from '../../src/sendonce-worker';
import { batchWorkflow } from '../../src/workflows';
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
  /** One fetchRecipientPage call; default: the next `limit` of `recipients` after `afterId`, none finished. */
  page?(request: PageRequest): Promise<RecipientPage>;
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
  /** Every fetchRecipientPage call, and the page each returned (in the same order; a failed call returns none). */
  pageRequests: PageRequest[];
  pages: RecipientPage[];
}

export function stubActivities(b: StubBehaviour): { activities: Activities; log: StubLog } {
  const log: StubLog = { summaries: [], chunks: [], sends: [], deadLetters: [], released: 0, fencedOff: 0, pagesFetched: 0, pageRequests: [], pages: [] };
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
    async fetchRecipientPage(request) {
      log.pagesFetched++;
      log.pageRequests.push(request);
      const page = b.page ? await b.page(request) : nextRecipients(b.recipients, request);
      log.pages.push(page);
      return page;
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

/** The next `limit` of `recipients` after `afterId`, all still to send: keyset paging over a fixed list. */
function nextRecipients(recipients: string[], { afterId, limit }: PageRequest): RecipientPage {
  const start = afterId === null ? 0 : recipients.indexOf(afterId) + 1;
  const ids = recipients.slice(start, start + limit);
  return { toSend: ids, lastId: ids[ids.length - 1] ?? null, size: ids.length, finished: { deduped: 0, sent: 0, dead: 0, unknown: 0 } };
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

export interface StubRun {
  summary?: RunSummary;
  /** Why the run did not return a summary: its failure, or that it did not end within the time allowed. */
  error?: unknown;
  log: StubLog;
  /** The messages of the failed workflow tasks in the last run's history (an unhandled rejection fails one). */
  workflowTaskFailures: string[];
}

export interface StubRunOptions {
  /** Start the run as a redrive of these recipient ids (BatchInput.recipientIds). */
  recipientIds?: BatchInput['recipientIds'];
  /** Give up (and terminate the run) after this long; default 2 minutes. */
  timeoutMs?: number;
}

/** Run the batch workflow on the dev server with these stubbed activities, and say how it ended. */
export async function runStubbedBatch(behaviour: StubBehaviour, options: StubRunOptions = {}): Promise<StubRun> {
  const { activities, log } = stubActivities(behaviour);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const client = new Client({ connection });
    return await withStubWorker(activities, async (taskQueue) => {
      const workflowId = uniqueName('wf');
      const input: BatchInput = { jobName: 'stub-job', scheduledAt: '2026-11-20T10:00:00Z', ...(options.recipientIds ? { recipientIds: options.recipientIds } : {}) };
      const handle = await client.workflow.start(batchWorkflow, { taskQueue, workflowId, args: [input], workflowExecutionTimeout: timeoutMs + 60_000 });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
      const ended = await Promise.race([handle.result().then((summary) => ({ summary }), (error: unknown) => ({ error })), late]);
      clearTimeout(timer);
      const last = client.workflow.getHandle(workflowId);
      if (ended === 'late') await last.terminate('test: the run did not end in time');
      const history = await last.fetchHistory();
      const workflowTaskFailures = (history.events ?? []).flatMap((e) =>
        e.workflowTaskFailedEventAttributes ? [e.workflowTaskFailedEventAttributes.failure?.message ?? '(no message)'] : [],
      );
      if (ended === 'late') return { error: new Error(`the run did not end within ${timeoutMs} ms`), log, workflowTaskFailures };
      return { ...ended, log, workflowTaskFailures };
    });
  } finally {
    await connection.close();
  }
}
