/**
 * Claims and marks of concurrent sends share statements (src/db/coalesce.ts): the per-key rules of the claim
 * state machine must hold inside one grouped statement exactly as they do one by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claim, markSent, type ClaimRequest } from '../../src/sends';
import { createTestDatabase } from '../../devkit/test-database';

const request = (key: string, fence = 1, jobName = 'grouped'): ClaimRequest => ({
  key, jobName, template: 't', recipientId: key, window: '2026-11-30', fence,
  runId: `run-${fence}`, messageId: `<${key}@sendonce.test>`, leaseMs: 60_000, maximumAttempts: 3, resendUnknownOnce: false,
});

test('grouped claims: one owner per key even when a key is asked twice at once; a stale fence is refused per row', async (t) => {
  const db = await createTestDatabase('grouped');
  t.after(() => db.drop());
  await db.pool.query(`INSERT INTO sendonce.job_fences (job_name, current_fence) VALUES ('fenced-job', 5)`);
  // 40 claims at once: the first runs alone, the rest wait for it and go in grouped statements.
  const reqs = [
    ...Array.from({ length: 30 }, (_, i) => request(`k${i}`)),
    ...Array.from({ length: 5 }, (_, i) => request(`k${i}`)), // the same keys again, concurrently
    ...Array.from({ length: 5 }, (_, i) => request(`f${i}`, 4, 'fenced-job')), // older than the job's fence
  ];
  const results = await Promise.all(reqs.map((r) => claim(db.pool, r)));
  const { rows: stats } = await db.pool.query<{ calls: string }>(
    `SELECT count(*) AS calls FROM sendonce.email_sends`,
  );
  assert.equal(Number(stats[0]!.calls), 30, 'one row per key, no row with a stale fence');
  for (let i = 0; i < 5; i++) {
    const kinds = [results[i]!.kind, results[30 + i]!.kind].sort();
    assert.deepEqual(kinds, ['busy', 'claimed'], `k${i}: exactly one of two concurrent claims owns it`);
  }
  for (let i = 5; i < 30; i++) assert.equal(results[i]!.kind, 'claimed');
  for (let i = 35; i < 40; i++) assert.deepEqual(results[i], { kind: 'fenced' });

  // Grouped marks: only the attempt that owns the claim writes; a wrong attempt number changes nothing.
  const marks = await Promise.all(
    Array.from({ length: 30 }, (_, i) => markSent(db.pool, `k${i}`, i % 10 === 0 ? 2 : 1, { smtpResponse: `250 ok ${i}` })),
  );
  assert.deepEqual(marks.map((m, i) => [i, m]).filter(([, m]) => !m).map(([i]) => i), [0, 10, 20], 'attempt 2 owns nothing');
  const { rows } = await db.pool.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM sendonce.email_sends GROUP BY state ORDER BY state`);
  assert.deepEqual(rows.map((r) => [r.state, Number(r.n)]), [['claimed', 3], ['sent', 27]]);
  const { rows: resp } = await db.pool.query<{ last_smtp_response: string }>(`SELECT last_smtp_response FROM sendonce.email_sends WHERE idempotency_key = 'k7'`);
  assert.equal(resp[0]!.last_smtp_response, '250 ok 7', 'each key keeps its own SMTP response');
});

test('grouped claims of one key by two runs: the claim goes to the run whose row it is, and never to a stale fence', async (t) => {
  const db = await createTestDatabase('grouped_runs');
  t.after(() => db.drop());
  // Two runs of one window at once, as a lock lost to a Redis restart leaves them; the job's fence is the newer's.
  await db.pool.query(`INSERT INTO sendonce.job_fences (job_name, current_fence) VALUES ('grouped', 2)`);
  // The first claim runs alone; the keys asked by both runs wait for it and go together in one statement, the
  // stale run's request first.
  const first = claim(db.pool, request('opener', 2));
  const keys = Array.from({ length: 10 }, (_, i) => `both${i}`);
  const stale = keys.map((k) => claim(db.pool, request(k, 1)));
  const current = keys.map((k) => claim(db.pool, request(k, 2)));
  assert.equal((await first).kind, 'claimed');
  const [staleResults, currentResults] = [await Promise.all(stale), await Promise.all(current)];
  assert.deepEqual(staleResults.map((r) => r.kind), keys.map(() => 'fenced'), 'the run with the stale fence owns nothing');
  assert.deepEqual(currentResults.map((r) => r.kind), keys.map(() => 'claimed'));
  const { rows } = await db.pool.query<{ run_id: string; n: string }>(
    `SELECT run_id, count(*) AS n FROM sendonce.email_sends WHERE idempotency_key LIKE 'both%' GROUP BY run_id`,
  );
  assert.deepEqual(rows.map((r) => [r.run_id, Number(r.n)]), [['run-2', 10]]);

  // The same with two live fences (the newer lock not yet taken): each key is owned by exactly one run, and the
  // owner is the run on the row — a claim result never points at another run's row.
  await db.pool.query(`UPDATE sendonce.job_fences SET current_fence = 1 WHERE job_name = 'grouped'`);
  const again = claim(db.pool, request('opener2', 2));
  const pairs = Array.from({ length: 10 }, (_, i) => `pair${i}`).map((k) => [claim(db.pool, request(k, 1)), claim(db.pool, request(k, 2))] as const);
  await again;
  for (const [i, [one, two]] of pairs.entries()) {
    const [a, b] = [await one, await two];
    assert.deepEqual([a.kind, b.kind].sort(), ['busy', 'claimed'], `pair${i}: one owner`);
    const { rows: owner } = await db.pool.query<{ run_id: string }>(`SELECT run_id FROM sendonce.email_sends WHERE idempotency_key = $1`, [`pair${i}`]);
    assert.equal(owner[0]!.run_id, a.kind === 'claimed' ? 'run-1' : 'run-2', `pair${i}: the claimed result is the row's run`);
  }
});
