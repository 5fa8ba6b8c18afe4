/**
 * The batch workflow's branches, with stubbed activities (stub-activities.ts) on the real dev server: what the
 * run does when a claim is fenced, a chunk times out, a run-fatal error or a dead letter happens, the rate
 * limiter says wait or is down, and the history is long enough to continue as new.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SendResult } from '../../src/contract';
import { SmtpAuthError, SmtpTransientError } from '../../src/errors';
import { runStubbedBatch, type StubBehaviour } from './stub-activities';

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));
const sent = (attempt = 1): SendResult => ({ outcome: 'sent', attempt });

const runBatch = (behaviour: StubBehaviour) => runStubbedBatch(behaviour);

test('fenced: the run stops sending after the chunk that saw a newer lock holder, ends lock_lost and leaves the lock alone', async () => {
  const { summary, log } = await runBatch({
    recipients: ids(20),
    settings: { chunkSize: 5, maxInFlight: 5 },
    send: async (input) => (input.recipientId === '8' ? { outcome: 'fenced', attempt: 1 } : sent()),
  });
  assert.equal(summary?.outcome, 'lock_lost');
  assert.equal(log.chunks.length, 2, 'no chunk after the fenced one');
  assert.equal(summary?.counts.sent, 9, 'the fenced recipient is not counted');
  assert.equal(summary?.counts.processed, 9);
  assert.equal(log.released, 0, 'a lost lock is not released (it may be someone else’s now)');
  assert.equal(log.summaries[0]?.summary.outcome, 'lock_lost');
});

test('chunk timeout: a chunk whose worker stops heartbeating is redone recipient by recipient', async () => {
  let hung = false;
  const { summary, log } = await runBatch({
    recipients: ids(10),
    settings: { chunkSize: 5, maxInFlight: 5 },
    chunk: async (input) => {
      if (!hung) {
        hung = true;
        await Context.current().sleep(20_000); // no heartbeat: times out after attemptTimeoutMs (2 s)
      }
      return input.recipientIds.map((recipientId) => ({ recipientId, ...sent() }));
    },
    send: async (input) => (input.recipientId === '2' ? { outcome: 'skipped_dedupe', attempt: 1 } : sent()),
  });
  assert.equal(summary?.outcome, 'completed');
  assert.deepEqual(log.sends.map((s) => s.recipientId).sort(), ['1', '2', '3', '4', '5'], 'the timed-out chunk, one by one');
  assert.deepEqual({ sent: summary?.counts.sent, deduped: summary?.counts.deduped, processed: summary?.counts.processed }, { sent: 9, deduped: 1, processed: 10 });
});

test('run-fatal: an SMTP authentication failure stops the run, fails it loudly, records it and releases the lock', async () => {
  const { error, log } = await runBatch({
    recipients: ids(20),
    settings: { chunkSize: 5, maxInFlight: 5 },
    send: async (input) => {
      if (input.recipientId === '3') throw new SmtpAuthError('535 authentication failed');
      return sent();
    },
  });
  assert.ok(error instanceof WorkflowFailedError, `failed: ${String(error)}`);
  assert.ok(error.cause instanceof ApplicationFailure && error.cause.type === SmtpAuthError.name, String(error.cause));
  assert.equal(log.chunks.length, 1, 'nothing sent after the fatal error');
  assert.equal(log.deadLetters.length, 0, 'a run-fatal error is not a dead letter');
  const finished = log.summaries[0]!;
  assert.equal(finished.summary.outcome, 'failed');
  assert.match(finished.error ?? '', /SmtpAuthError: 535/);
  assert.deepEqual({ processed: finished.summary.counts.processed, sent: finished.summary.counts.sent, failed: finished.summary.counts.failed }, { processed: 5, sent: 4, failed: 1 });
  assert.equal(log.released, 1);
});

test('a failed first attempt in a chunk is retried on its own within the job bound, then dead-lettered', async () => {
  const { summary, log } = await runBatch({
    recipients: ids(5),
    settings: { chunkSize: 5, maxInFlight: 5 },
    send: async (input) => {
      if (input.recipientId === '2') throw new SmtpTransientError('451 try later', 451, '451 try later');
      return sent();
    },
  });
  assert.equal(summary?.outcome, 'completed');
  assert.equal(log.sends.filter((s) => s.recipientId === '2').length, 2, 'maximumAttempts 3 = 1 in the chunk + 2 on its own');
  assert.deepEqual(log.deadLetters.map((d) => [d.recipientId, d.errorType]), [['2', SmtpTransientError.name]]);
  assert.deepEqual({ sent: summary?.counts.sent, dead: summary?.counts.dead, failed: summary?.counts.failed }, { sent: 4, dead: 1, failed: 1 });
});

test('rate limits: a refused send waits on a timer and goes out; a limiter that is down stops the run', async () => {
  let refusals = 0;
  const waited = await runBatch({
    recipients: ids(5),
    settings: { chunkSize: 5, maxInFlight: 5 },
    send: async (input) => (input.recipientId === '4' && refusals++ < 2 ? { outcome: 'rate_limited', retryAfterMs: 200, attempt: 1 } : sent()),
  });
  assert.equal(waited.summary?.outcome, 'completed');
  assert.equal(waited.summary?.counts.sent, 5);
  assert.equal(waited.summary?.counts.rateLimitWaits, 2, 'refused in the chunk, then once more on its own');
  assert.equal(waited.summary?.counts.retries, 0, 'waiting used no attempt');

  const down = await runBatch({
    recipients: ids(20),
    settings: { chunkSize: 5, maxInFlight: 5 },
    send: async (input) => (input.recipientId === '7' ? { outcome: 'rate_limiter_unavailable', attempt: 1 } : sent()),
  });
  assert.equal(down.summary?.outcome, 'stopped');
  assert.equal(down.summary?.reason, 'rate_limiter_unavailable');
  assert.equal(down.log.chunks.length, 2);
  assert.equal(down.summary?.counts.processed, 9, 'the recipient the limiter refused is left for the next run');
  assert.equal(down.log.released, 1);
});

test('continue-as-new carries the cursor, counts and lock: every recipient once, one summary', async () => {
  const { summary, log } = await runBatch({
    recipients: ids(60),
    settings: { chunkSize: 5, maxInFlight: 10, pageSize: 10, continueAsNewAfterEvents: 40 },
  });
  assert.equal(summary?.outcome, 'completed');
  assert.ok((summary?.segments ?? 0) > 1, `segments ${summary?.segments}`);
  const handled = log.chunks.flatMap((c) => c.recipientIds);
  assert.deepEqual([...handled].sort((a, b) => Number(a) - Number(b)), ids(60), 'each recipient in exactly one chunk');
  assert.equal(summary?.counts.sent, 60);
  assert.equal(log.summaries.length, 1);
  assert.equal(log.released, 1);
});

test('the time budget counts from the chain\'s first segment, not from each continue-as-new', async () => {
  // 200 recipients at 10 per 300 ms need ~6 s; the budget is 3 s and a segment lasts well under that, so a budget
  // that restarted with every segment would let the chain send everyone.
  const { summary, log } = await runBatch({
    recipients: ids(200),
    settings: { chunkSize: 5, maxInFlight: 10, pageSize: 10, continueAsNewAfterEvents: 40, timeBudgetMs: 3_000 },
    send: async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return sent();
    },
  });
  assert.deepEqual([summary?.outcome, summary?.reason], ['stopped', 'time_budget']);
  assert.ok((summary?.segments ?? 0) > 1, `segments ${summary?.segments}`);
  const handled = log.chunks.flatMap((c) => c.recipientIds).length;
  assert.ok(handled < 200, `${handled} recipients handled within the budget`);
  assert.equal(summary?.counts.sent, handled, 'every chunk that started finished and is counted');
});

test('one activity per recipient (chunkSize 1): fenced stops the run the same way', async () => {
  const { summary, log } = await runBatch({
    recipients: ids(10),
    settings: { chunkSize: 1, maxInFlight: 1 },
    send: async (input) => (input.recipientId === '4' ? { outcome: 'fenced', attempt: 1 } : sent()),
  });
  assert.equal(summary?.outcome, 'lock_lost');
  assert.deepEqual(log.sends.map((s) => s.recipientId), ['1', '2', '3', '4']);
  assert.equal(summary?.counts.sent, 3);
  assert.equal(log.chunks.length, 0);
});
