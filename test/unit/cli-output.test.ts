/**
 * Issue 18.3 and 18.1, the pure parts: `sendonce runs` fits 120 columns whatever the job names and reasons, and
 * says why a run was skipped; the CLI takes the local stack's settings only when the environment names no
 * deployment, and only while its `npm start` runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunRow } from '../../src/api';
import { useLocalStack, writeLocalStack } from '../../src/cli/local-stack';
import { fitRows } from '../../src/cli/output';
import { formatDuration, RUNS_MAX_WIDTH, runsTable } from '../../src/cli/runs';
import { createCommands, searchAttributeFlags } from '../../src/visibility';

const run = (over: Partial<RunRow>): RunRow => ({
  runId: '01a22d4d-4036-7f10-84df-0502147e299c', workflowId: 'sendonce-daily-digest-2026-11-30T16:32:47Z', jobName: 'daily-digest',
  scheduledAt: '2026-11-30T16:32:47Z', window: '2026-11-30', startedAt: '2026-11-30T16:32:47.123Z', finishedAt: null, durationMs: 1289,
  outcome: 'completed', reason: null, error: null, processed: 25, sent: 25, deduped: 0, failed: 0, dead: 0, unknown: 0, ineligible: 0,
  retries: 0, rateLimitWaits: 0, suppressed: 0, ...over,
});

test('runs: one line per run within 120 columns, outcome with its reason, even with long names', () => {
  const rows = [
    run({}),
    run({ outcome: 'skipped', reason: 'locked_no_expiry', durationMs: 200 }),
    run({ jobName: 'a-very-long-job-name-that-someone-chose-for-their-weekly-report-of-everything', window: '2026-10-25T02+02:00', outcome: 'stopped', reason: 'rate_limiter_unavailable', sent: 123456, deduped: 7654321, durationMs: 3_725_000 }),
  ];
  const lines = fitRows(runsTable(rows), { maxWidth: RUNS_MAX_WIDTH, shrink: ['job', 'window', 'outcome'] });
  assert.equal(lines.length, 4);
  for (const line of lines) assert.ok(line.length <= RUNS_MAX_WIDTH, `${line.length} columns: ${line}`);
  assert.match(lines[0]!, /^started\s+job\s+window\s+outcome\s+sent\s+deduped\s+dead\s+unknown\s+took$/);
  assert.match(lines[2]!, /skipped \(locked_no_expiry\)/);
  assert.match(lines[3]!, /^11-30 16:32:47 {2}a-very-long… {2}2026-10-25T02\+… {2}stopped \(rate_limiter_unavailable\)/);
  assert.match(lines[3]!, /1h02m$/);
});

test('durations read as a person says them', () => {
  assert.deepEqual([formatDuration(null), formatDuration(1289), formatDuration(184_000), formatDuration(3_725_000)], ['-', '1.3s', '3m04s', '1h02m']);
});

test('the local stack fills in only an environment that names no deployment, and only while npm start runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-'));
  const stack = { pid: process.pid, startedAt: '2026-11-30T00:00:00Z', urls: {}, env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db', TEMPORAL_ADDRESS: '127.0.0.1:2', TASK_QUEUE: 'q' } };
  try {
    const base = { SENDONCE_STATE_DIR: dir };
    assert.equal(useLocalStack({ ...base }), undefined, 'no file: nothing');
    writeLocalStack(stack, base);
    assert.equal(fs.statSync(path.join(dir, 'stack.json')).mode & 0o777, 0o600, 'it holds a password: owner only');
    const env: NodeJS.ProcessEnv = { ...base, TASK_QUEUE: 'mine' };
    assert.ok(useLocalStack(env));
    assert.deepEqual([env.DATABASE_URL, env.TEMPORAL_ADDRESS, env.TASK_QUEUE], [stack.env.DATABASE_URL, stack.env.TEMPORAL_ADDRESS, 'mine']);
    const own: NodeJS.ProcessEnv = { ...base, TEMPORAL_ADDRESS: 'temporal.prod:7233' };
    assert.equal(useLocalStack(own), undefined, 'an environment with its own deployment is left alone');
    assert.equal(own.DATABASE_URL, undefined);
    writeLocalStack({ ...stack, pid: 2 ** 22 + 1 }, base); // above pid_max: no such process
    assert.equal(useLocalStack({ ...base }), undefined, 'a file whose npm start is gone is ignored');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('search attribute registration commands: dev server flags and one operator command per type', () => {
  assert.deepEqual(searchAttributeFlags(), [
    'SendonceJob=Keyword', 'SendonceWindow=Keyword', 'SendonceOutcome=Keyword', 'SendonceReason=Keyword',
    'SendonceSent=Int', 'SendonceDead=Int', 'SendonceUnknown=Int',
  ]);
  assert.deepEqual(createCommands('prod'), [
    'temporal operator search-attribute create --namespace prod --name SendonceJob --name SendonceWindow --name SendonceOutcome --name SendonceReason --type Keyword',
    'temporal operator search-attribute create --namespace prod --name SendonceSent --name SendonceDead --name SendonceUnknown --type Int',
  ]);
});
