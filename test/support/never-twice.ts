/**
 * Helpers for the "never twice" acceptance tests (issue 3): one harness per test (own database, sink, task
 * queue), batch runs started by hand with a fixed nominal time, readers for email_sends / dead_letters and the
 * assertions on them.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { JobDefinition } from '../../src/jobs';
import type { SendState } from '../../src/sends';
import type { RunSummary } from '../../src/contract';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun, type BatchRunHandle } from '../../devkit/runs';
import { startHarness, type Harness, type HarnessOptions } from './harness';

/** The tick every test processes (its daily window is 2026-11-20). */
export const SCHEDULED_AT = '2026-11-20T10:00:00Z';

/** A harness for this test only, closed when the test ends; with a running worker unless `startWorker: false`. */
export async function harnessFor(t: TestContext, jobs: JobDefinition[], options: Partial<HarnessOptions> & { startWorker?: boolean } = {}): Promise<Harness> {
  const { startWorker = true, ...rest } = options;
  const h = await startHarness({ ...rest, jobs });
  t.after(() => h.close());
  if (startWorker) await h.startWorker();
  return h;
}

export function workflowIdFor(job: JobDefinition): string {
  return uniqueName(`${job.name}-run`);
}

type Db = { pool: Pool };

export interface BatchOptions {
  workflowId?: string;
  scheduledAt?: string;
}

/** Start one batch run of `job` on the harness's worker (no schedule), at SCHEDULED_AT unless told otherwise. */
export function startBatch(h: Harness, job: Pick<JobDefinition, 'name'>, opts: BatchOptions = {}): Promise<BatchRunHandle> {
  const { workflowId, scheduledAt = SCHEDULED_AT } = opts;
  return startBatchRun(h.client, { taskQueue: h.taskQueue, jobName: job.name, scheduledAt, ...(workflowId ? { workflowId } : {}) });
}

/** Start one batch run and wait for its summary (handle.result() follows continue-as-new). */
export async function runBatch(h: Harness, job: JobDefinition, opts: BatchOptions = {}): Promise<RunSummary> {
  return (await startBatch(h, job, opts)).result();
}

export interface SendRow {
  recipient_id: string;
  state: SendState;
  attempts: number;
  resends: number;
  message_id: string;
  last_error_type: string | null;
  last_smtp_code: number | null;
  last_smtp_response: string | null;
  reason: string | null;
}

/** email_sends rows of a job, by recipient id. */
export async function sendRows(h: { db: Db }, job: Pick<JobDefinition, 'name'>): Promise<Map<string, SendRow>> {
  const { rows } = await h.db.pool.query<SendRow>(
    `SELECT recipient_id, state, attempts, resends, message_id, last_error_type, last_smtp_code, last_smtp_response, reason
       FROM sendonce.email_sends WHERE job_name = $1`,
    [job.name],
  );
  return new Map(rows.map((r) => [r.recipient_id, r]));
}

export interface DeadLetterRow {
  recipient_id: string;
  error_type: string;
  smtp_code: number | null;
  smtp_response: string | null;
  attempts: number;
}

export async function deadLetters(h: { db: Db }, job: Pick<JobDefinition, 'name'>): Promise<DeadLetterRow[]> {
  const { rows } = await h.db.pool.query<DeadLetterRow>(
    `SELECT recipient_id, error_type, smtp_code, smtp_response, attempts FROM sendonce.dead_letters WHERE job_name = $1 ORDER BY id`,
    [job.name],
  );
  return rows;
}

/** Ids of users the job never recorded anything for (no email_sends row): recipients a run skipped silently. */
export async function usersWithoutRow(h: { db: Db }, job: Pick<JobDefinition, 'name'>): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ id: string }>(
    `SELECT u.id::text AS id FROM users u
      WHERE NOT EXISTS (SELECT 1 FROM sendonce.email_sends s WHERE s.job_name = $1 AND s.recipient_id = u.id::text)
      ORDER BY u.id`,
    [job.name],
  );
  return rows.map((r) => r.id);
}

/** Fails with the first few ids when some users have no email_sends row. */
export async function assertNoneSkipped(h: { db: Db }, job: Pick<JobDefinition, 'name'>): Promise<void> {
  const missing = await usersWithoutRow(h, job);
  assert.equal(missing.length, 0, `${missing.length} recipient(s) never processed, e.g. ids ${missing.slice(0, 10).join(', ')}`);
}

/** The row of one recipient, failing the test if there is none. */
export function rowOf(rows: Map<string, SendRow>, recipientId: string): SendRow {
  const row = rows.get(recipientId);
  assert.ok(row, `recipient ${recipientId} has an email_sends row`);
  return row;
}

/** processed = sent + deduped + failed + ineligible + suppressed, and failed = dead + unknown. */
export function assertCountsAddUp(summary: RunSummary, recipients: number): void {
  const s = summary.counts;
  assert.equal(s.processed, recipients, `processed ${JSON.stringify(s)}`);
  assert.equal(s.sent + s.deduped + s.failed + s.ineligible + s.suppressed, s.processed, `counts add up: ${JSON.stringify(s)}`);
  assert.equal(s.dead + s.unknown, s.failed, `failed = dead-lettered + unknown: ${JSON.stringify(s)}`);
}

/** Every address got exactly one message at the sink. */
export function assertOneEach(h: Harness, addresses: readonly string[]): void {
  for (const address of addresses) {
    assert.equal(h.sink.messagesTo(address).length, 1, `${address} got exactly one message`);
  }
}
