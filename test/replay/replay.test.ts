/**
 * Issue 14, point 2: histories of every workflow path, recorded from real runs (scripts/replay/record.ts), are
 * replayed against today's workflow bundle. A change to src/workflows that would break runs in flight — a
 * reordered activity call, a new timer, a removed branch — fails here, in CI, before a deploy does it to users.
 * (With Worker Versioning on, runs in flight are pinned to the old version, so re-record when a change ships as a
 * new version; docs/safe-deploys.md says when that is right.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/harness';
import { historyFromStored } from './stored-history';

const DIR = path.join(__dirname, 'histories');

interface Recorded {
  scenario: string;
  workflowId: string;
  runs: Array<{ events: Array<{ eventType: string | number; [k: string]: unknown }> }>;
}

const recorded: Recorded[] = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Recorded);

/** Every path the issue names, and how its last run closes. */
const PATHS: Record<string, string> = {
  completed: 'completed',
  'continue-as-new': 'completed',
  'one-activity-per-recipient': 'completed',
  'rate-limit-wait': 'completed',
  redrive: 'completed',
  'one-off': 'completed',
  skipped: 'skipped',
  'lock-lost': 'lock_lost',
  fenced: 'lock_lost',
  'failed-run-fatal': 'FAILED',
  'failed-page-order': 'FAILED',
  cancelled: 'CANCELED',
  'time-budget': 'stopped',
  prune: 'PRUNED',
};

const eventName = (e: { eventType: string | number }) => String(e.eventType).replace(/^EVENT_TYPE_/, '');

/** The run summary's outcome from the close event's result payload, or the close event's kind. */
function ending(run: Recorded['runs'][number]): string {
  const last = run.events[run.events.length - 1]!;
  const kind = eventName(last);
  if (kind === 'WORKFLOW_EXECUTION_FAILED' || kind === 'WORKFLOW_EXECUTION_CANCELED') return kind.replace('WORKFLOW_EXECUTION_', '');
  const attrs = last.workflowExecutionCompletedEventAttributes as { result?: { payloads?: Array<{ data: string }> } } | undefined;
  const data = attrs?.result?.payloads?.[0]?.data;
  if (!data) return kind;
  const result = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { outcome?: string; emailSends?: number };
  return result.outcome ?? (result.emailSends !== undefined ? 'PRUNED' : kind);
}

test('a history is recorded for every workflow path, and each ends the way its path says', () => {
  assert.deepEqual(recorded.map((r) => r.scenario).sort(), Object.keys(PATHS).sort(), 'run `npm run replay:record` to record the missing ones');
  for (const r of recorded) {
    assert.equal(ending(r.runs[r.runs.length - 1]!), PATHS[r.scenario], `${r.scenario} ends as recorded`);
  }
  const chain = recorded.find((r) => r.scenario === 'continue-as-new')!;
  assert.ok(chain.runs.length >= 2, `the chain has ${chain.runs.length} runs`);
  assert.ok(chain.runs.slice(0, -1).every((run) => eventName(run.events[run.events.length - 1]!) === 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW'));
});

test('every recorded history replays against today’s workflow code without a determinism error', async () => {
  const histories = recorded.flatMap((r) => r.runs.map((run, i) => ({ workflowId: `${r.scenario} run ${i + 1}`, history: historyFromStored(run) })));
  assert.ok(histories.length >= Object.keys(PATHS).length, 'histories to replay');
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), replayName: 'sendonce replay test' }, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message.split('\n')[0]}`);
  }
  assert.equal(replayed, histories.length);
  assert.deepEqual(failures, [], failures.join('\n'));
});
