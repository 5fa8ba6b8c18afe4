/**
 * The pure pieces a run's bookkeeping rests on (issue 24, point 6): the tally keeps the summary's equations on every
 * path a recipient can take, retry bounds resolve default < deployment < job, and run settings are clamped to what
 * Temporal and the database can take.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../devkit/seeded-random';
import { zeroCounts, type RunCounts } from '../../src/contract';
import type { JobDefinition } from '../../src/jobs';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PAGE_SIZE, runSettings, timeBudgetMs } from '../../src/activities/run-settings';
import { DEFAULT_RETRY, resolveRetry } from '../../src/retry';
import { RunTally, type FinalSendOutcome } from '../../src/workflows/tally';

/** The summary's promises (src/contract/counts.ts): recipients add up, failures add up. */
function assertEquations(c: RunCounts, stoppedByFatal: number): void {
  assert.equal(c.processed, c.sent + c.deduped + c.failed + c.ineligible + c.suppressed, `processed adds up: ${JSON.stringify(c)}`);
  assert.equal(c.failed, c.dead + c.unknown + stoppedByFatal, `failed adds up: ${JSON.stringify(c)}`);
}

test('tally: every path a recipient can take keeps processed and failed adding up', () => {
  // A seeded walk over every kind of event, so a new path that counts a recipient twice (or not at all) is caught.
  const random = seededRandom(2026);
  const rand = (n: number) => Math.floor(random() * n);
  const outcomes: FinalSendOutcome[] = ['sent', 'skipped_dedupe', 'unknown', 'dead', 'ineligible', 'suppressed'];
  const tally = new RunTally(zeroCounts());
  let recipients = 0;
  let fatal = 0;
  let attemptsAfterFirst = 0;
  for (let i = 0; i < 2_000; i++) {
    switch (rand(6)) {
      case 0: {
        const attempts = 1 + rand(5);
        tally.decided(outcomes[rand(outcomes.length)]!, attempts);
        attemptsAfterFirst += attempts - 1;
        recipients += 1;
        break;
      }
      case 1:
        tally.deadLettered((['dead', 'unknown', 'sent', 'deduped'] as const)[rand(4)]!);
        recipients += 1;
        break;
      case 2: {
        const n = rand(4);
        tally.suppressedOnPage(n);
        recipients += n;
        break;
      }
      case 3: {
        const f = { deduped: rand(3), sent: rand(3), dead: rand(2), unknown: rand(2) };
        tally.alreadyFinished(f);
        recipients += f.deduped + f.sent + f.dead + f.unknown;
        break;
      }
      case 4:
        tally.stoppedByFatalError();
        fatal += 1;
        recipients += 1;
        break;
      case 5:
        tally.rateLimitWait(); // an event, not a recipient
        break;
    }
    assertEquations(tally.counts, fatal);
  }
  assert.equal(tally.counts.processed, recipients, 'each recipient counted once');
  assert.equal(tally.counts.retries, attemptsAfterFirst);
});

test('tally: counts carried from before `suppressed` existed start it at 0', () => {
  const old = zeroCounts() as Partial<RunCounts>;
  delete old.suppressed;
  const tally = new RunTally(old as RunCounts);
  tally.decided('suppressed', 1);
  tally.suppressedOnPage(2);
  assert.equal(tally.counts.suppressed, 3);
  assert.equal(tally.counts.processed, 3);
});

test('retry bounds: the defaults, under the deployment, under the job', () => {
  assert.deepEqual(resolveRetry({}), DEFAULT_RETRY);
  assert.equal(resolveRetry({}, { attemptTimeoutMs: 4_000 }).attemptTimeoutMs, 4_000);
  const both = resolveRetry({ retry: { attemptTimeoutMs: 9_000, maximumAttempts: 2 } }, { attemptTimeoutMs: 4_000 });
  assert.equal(both.attemptTimeoutMs, 9_000, "the job's own bound wins");
  assert.equal(both.maximumAttempts, 2);
  assert.equal(both.totalTimeoutMs, DEFAULT_RETRY.totalTimeoutMs, 'what nobody set keeps its default');
});

const job = (over: Partial<JobDefinition> = {}): JobDefinition => ({ name: 'j', template: 't', schedule: { every: '5m' }, ...over }) as JobDefinition;

test('run settings: defaults, and clamps to what Temporal and the database can take', () => {
  const plain = runSettings(job(), { lockTtlMs: 30_000, retryDefaults: {} });
  assert.equal(plain.pageSize, DEFAULT_PAGE_SIZE);
  assert.equal(plain.maxInFlight, DEFAULT_MAX_IN_FLIGHT);
  assert.equal(plain.chunkSize, DEFAULT_CHUNK_SIZE);
  assert.equal(plain.lockTtlMs, 30_000);
  assert.deepEqual(plain.retry, DEFAULT_RETRY);

  const extreme = runSettings(job({ maxInFlight: 5_000, chunkSize: 10_000, continueAsNewAfterEvents: 90_000 }), { lockTtlMs: 1, retryDefaults: { attemptTimeoutMs: 7_000 } });
  assert.equal(extreme.maxInFlight, 500, 'Temporal fails a workflow above 2,000 activities in flight');
  assert.equal(extreme.chunkSize, 200);
  assert.equal(extreme.continueAsNewAfterEvents, 20_000, 'well below the 50k hard limit');
  assert.equal(extreme.retry.attemptTimeoutMs, 7_000, "the deployment's attempt timeout");
  assert.equal(runSettings(job({ chunkSize: 0 }), { lockTtlMs: 1, retryDefaults: {} }).chunkSize, 1);
  assert.equal(runSettings(job({ rateLimit: { minGapMs: 100 } }), { lockTtlMs: 1, retryDefaults: {} }).maxInFlight, 1, 'spaced sends go one at a time');
});

test('time budget: the job\'s own, else the run timeout less room for the last sends, at most half of it', () => {
  assert.equal(timeBudgetMs(job({ timeBudget: '10m' }), DEFAULT_RETRY), 600_000);
  // 1 h run timeout, sends may take 10 min + a minute to record: 60 − 11 = 49 min.
  assert.equal(timeBudgetMs(job(), DEFAULT_RETRY), 49 * 60_000);
  // A 10 min run timeout: the room would be 11 min, capped at half the timeout.
  assert.equal(timeBudgetMs(job({ schedule: { every: '5m', maxRunDuration: '10m' } } as Partial<JobDefinition>), DEFAULT_RETRY), 5 * 60_000);
});
