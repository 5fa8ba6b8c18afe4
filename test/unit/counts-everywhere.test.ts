/**
 * A run's counts have one list, COUNT_NAMES (src/contract/counts.ts); everything that shows or stores counts is
 * checked against it here: the CLI's `runs --wide` and `--json`, the job_runs columns written and read, the
 * `progress` query and the Web UI's details line, the Prometheus counters (and that some event moves each), the
 * Grafana dashboard and the metrics table of docs/deploying.md. Each check takes its names from the contract, so a
 * count added there that one of them misses fails here (the metrics' help texts fail to compile instead).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricMeter } from '@temporalio/common';
import type { Pool } from 'pg';
import { listRuns } from '../../src/api/runs';
import { GLANCE_COUNTS, runsTable, WIDE_COLUMNS } from '../../src/cli/runs';
import { COUNT_NAMES, columnOf, metricOf, type CarriedState, type CountName, type RunCounts } from '../../src/contract';
import { createAppMetrics } from '../../src/metrics';
import { recordRunFinish } from '../../src/runs/records';
import { detailsLine, progressOf } from '../../src/workflows/progress';
import { Run } from '../../src/workflows/run-state';
import { read } from './deploy-files';

/** Counts that are all different (1, 2, 3, …), so a value shown under the wrong name is caught too. */
const distinctCounts = (): RunCounts => Object.fromEntries(COUNT_NAMES.map((name, i) => [name, i + 1])) as RunCounts;

/** A pool that records its queries and returns no rows. */
function recordingPool(): { pool: Pool; queries: Array<{ text: string; values: unknown[] }> } {
  const queries: Array<{ text: string; values: unknown[] }> = [];
  const pool = { query: async (text: string, values: unknown[] = []) => (queries.push({ text, values }), { rows: [] }) };
  return { pool: pool as unknown as Pool, queries };
}

test('CLI: `runs --wide` has a column per count, in the contract\'s order; the short table only counts', () => {
  assert.deepEqual(WIDE_COLUMNS.filter((c) => (COUNT_NAMES as readonly string[]).includes(c)), [...COUNT_NAMES]);
  const row = { startedAt: '2026-11-20T00:00:00.000Z', jobName: 'j', window: 'w', outcome: 'completed', reason: null, durationMs: 1, ...distinctCounts() };
  const shown = runsTable([row as unknown as Parameters<typeof runsTable>[0][number]])[0]!;
  for (const name of GLANCE_COUNTS) assert.equal(shown[name], row[name], name);
});

test('job_runs: the run history reads every count (`runs --json`) and a run\'s end writes every count', async () => {
  const reads = recordingPool();
  await listRuns(reads.pool);
  for (const name of COUNT_NAMES) assert.ok(reads.queries[0]!.text.includes(`${columnOf(name)} AS "${name}"`), `listRuns selects ${name}`);

  const writes = recordingPool();
  const counts = distinctCounts();
  await recordRunFinish(writes.pool, { runId: 'r', outcome: 'completed', counts });
  const { text, values } = writes.queries[0]!;
  for (const name of COUNT_NAMES) {
    const param = new RegExp(`\\b${columnOf(name)} = \\$(\\d+)`).exec(text);
    assert.ok(param, `recordRunFinish sets ${columnOf(name)}`);
    assert.equal(values[Number(param[1]) - 1], counts[name], `${columnOf(name)} gets the ${name} count`);
  }
});

function runWith(counts: Partial<RunCounts>): Run {
  const carried = {
    runId: 'r', scheduledAt: '2026-11-20T00:00:00Z', window: '2026-11-20', cursor: null, segment: 1, counts,
    lock: { token: 't', fence: 1 },
    settings: { pageSize: 1, maxInFlight: 1, lockTtlMs: 1, chunkSize: 1, continueAsNewAfterEvents: 1, timeBudgetMs: 1, retry: {} },
  } as unknown as CarriedState;
  return new Run('j', 'wf', carried, new Date(0));
}

test('progress: the query has every count, and the details line names every count with its value', () => {
  const counts = distinctCounts();
  const progress = progressOf({ jobName: 'j', workflowId: 'wf', run: runWith(counts) });
  for (const name of COUNT_NAMES) assert.equal(progress[name], counts[name], name);
  const line = detailsLine('**sending**', '2026-11-20', counts);
  assert.deepEqual(line.split(' · ').slice(2), COUNT_NAMES.map((name) => `${name} ${counts[name]}`));
});

test('progress: a run carried from before a count existed shows that count as 0', () => {
  const { processed, sent } = distinctCounts();
  const progress = progressOf({ jobName: 'j', workflowId: 'wf', run: runWith({ processed, sent }) });
  for (const name of COUNT_NAMES) assert.equal(progress[name], name === 'processed' ? processed : name === 'sent' ? sent : 0, name);
  assert.match(detailsLine('**sending**', 'w', { processed, sent }), / · suppressed 0 · /);
});

/** A meter that keeps what each counter was given, summed over its labels. */
function recordingMeter(): { meter: MetricMeter; totals: Map<string, number> } {
  const totals = new Map<string, number>();
  const counter = (name: string) => {
    totals.set(name, 0);
    return { add: (n: number) => void totals.set(name, totals.get(name)! + n) };
  };
  const meter = { createCounter: counter, createHistogram: () => ({ record() {} }), createGauge: () => ({ set() {} }) };
  return { meter: meter as unknown as MetricMeter, totals };
}

test('metrics: a counter per count, each moved by some event, adding up as the run summary does', () => {
  const { meter, totals } = recordingMeter();
  const metrics = createAppMetrics(meter);
  for (const name of COUNT_NAMES) assert.ok(totals.has(metricOf(name)), `counter ${metricOf(name)}`);

  // Every way a recipient is decided; two attempts after the first (one failed, one sent); a rate-limit wait; a
  // recipient stopped by a run-fatal error.
  for (const outcome of ['sent', 'skipped_dedupe', 'unknown', 'dead', 'ineligible', 'suppressed'] as const) metrics.sendFinished('j', outcome, 1);
  metrics.sendAttemptFailed('j', 'SmtpTransientError', 2);
  metrics.sendFinished('j', 'sent', 3);
  metrics.sendFinished('j', 'rate_limited', 1);
  metrics.sendAttemptFailed('j', 'SmtpAuthError', 1);
  for (const state of ['dead', 'unknown', 'sent'] as const) metrics.deadLettered('j', state);
  metrics.pageFinished('j', { deduped: 2, sent: 1, dead: 1, unknown: 1 });
  metrics.suppressedOnPage('j', 2);

  const c = Object.fromEntries(COUNT_NAMES.map((name) => [name, totals.get(metricOf(name))!])) as Record<CountName, number>;
  for (const name of COUNT_NAMES) assert.ok(c[name] > 0, `no event moved ${metricOf(name)}`);
  assert.equal(c.processed, c.sent + c.deduped + c.failed + c.ineligible + c.suppressed, JSON.stringify(c));
  assert.equal(c.failed, c.dead + c.unknown + 1, JSON.stringify(c));
  assert.deepEqual([c.retries, c.rateLimitWaits], [2, 1]);
});

interface Panel { title: string; targets?: Array<{ expr: string; legendFormat?: string }> }
const dashboard = JSON.parse(read('deploy/grafana/dashboards/sendonce.json')) as { panels: Panel[] };

test('dashboard: the run counts panel has a line per count, in the contract\'s order, each on its counter', () => {
  const panel = dashboard.panels.find((p) => p.title === 'Run counts per interval');
  assert.ok(panel, 'a panel "Run counts per interval"');
  assert.deepEqual(panel.targets!.map((t) => t.legendFormat), [...COUNT_NAMES]);
  panel.targets!.forEach((t, i) => assert.match(t.expr, new RegExp(`\\b${metricOf(COUNT_NAMES[i]!)}\\{`), t.legendFormat));
});

test('docs/deploying.md: the metrics table has a row per count', () => {
  const docs = read('docs/deploying.md');
  for (const name of COUNT_NAMES) assert.ok(docs.includes(`| \`${metricOf(name)}\` | counter |`), `a row for ${metricOf(name)}`);
});
