/**
 * The soak's bookkeeping on hand-made evidence (scripts/soak/report.ts): pairs are counted from overlapping
 * fault intervals, and the soak's section of RELIABILITY.md survives a chaos run's rewrite and is replaced, not
 * repeated, by the next soak; the headline counts every violation any check found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Injection } from '../../scripts/soak/nemesis';
import type { CheckResult } from '../../scripts/soak/checks';
import { headline, keepSoakSection, pairCounts, writeSoakSection } from '../../scripts/soak/report';
import type { RunRecord } from '../../scripts/soak/ticker';

const fault = (kind: Injection['kind'], startedAt: number, endedAt: number): Injection => ({ kind, startedAt, endedAt, recovered: true });

test('pairs: two kinds active at the same moment count once per overlap; the same kind twice, or one after the other, do not', () => {
  const pairs = pairCounts([
    fault('postgres-restart', 0, 10),
    fault('smtp-421-storm', 5, 7), // inside the restart
    fault('redis-restart', 9, 20), // overlaps the restart's end
    fault('smtp-421-storm', 12, 13), // inside the Redis outage
    fault('smtp-421-storm', 6, 8), // same kind as an active one: not a pair with it
    fault('worker-sigkill', 30, 31), // alone
  ]);
  assert.deepEqual(Object.fromEntries(pairs), {
    'postgres-restart + smtp-421-storm': 2,
    'postgres-restart + redis-restart': 1,
    'redis-restart + smtp-421-storm': 1,
  });
});

test('the soak section survives a chaos report and is replaced by the next soak', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'soak-report-')), 'RELIABILITY.md');
  fs.writeFileSync(file, '# Reliability\n\nchaos v1\n');
  writeSoakSection(file, '## Soak\n\nfirst soak');
  assert.match(fs.readFileSync(file, 'utf8'), /chaos v1[\s\S]*first soak/);

  const chaosRewrite = keepSoakSection('# Reliability\n\nchaos v2\n', fs.readFileSync(file, 'utf8'));
  assert.match(chaosRewrite, /chaos v2[\s\S]*first soak/);
  assert.doesNotMatch(chaosRewrite, /chaos v1/);
  fs.writeFileSync(file, chaosRewrite);

  writeSoakSection(file, '## Soak\n\nsecond soak');
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /chaos v2[\s\S]*second soak/);
  assert.doesNotMatch(text, /first soak/);
  assert.equal(text.match(/soak:begin/g)?.length, 1);
  assert.equal(keepSoakSection('# new\n', undefined), '# new\n', 'nothing to keep');
  fs.rmSync(path.dirname(file), { recursive: true });
});

const noFinding: CheckResult = {
  figures: {},
  violations: [],
  suppressedKeys: 0,
  reads: { sinkBefore: new Date(0), sinkAfter: new Date(0), messagesBefore: 0, messagesAfter: 0 },
  crossings: [],
};
const tickRun = (outcome: string): RunRecord => ({ kind: 'tick', job: 'j', window: 'w', workflowId: 'wf', runId: 'r', outcome, sent: 0, startedAt: new Date(0), endedAt: new Date(0) });

test('headline: a violation that stopped the soak counts even when the final check finds none (issue 28)', () => {
  const text = 'soak-limited: email:soak-limited:31:2031-01-05 is recorded sent but the sink has no message for it';
  const stopped = headline({
    violations: [text],
    firstViolation: { afterMinutes: 1.5, afterFaults: 60, afterTicks: 7, text },
    final: noFinding,
    runs: [tickRun('completed')],
  });
  assert.match(stopped, /^\*\*The soak found 1 violation\(s\)\*\* — the first after 1\.5 min and 60 faults \(tick 7\): soak-limited: email:soak-limited:31/);
  assert.match(stopped, /the final check found none\.$/);
  assert.doesNotMatch(stopped, /found 0 violation/);

  const finalOnly = headline({ violations: ['lost: k'], final: { ...noFinding, violations: ['lost: k'] }, runs: [] });
  assert.equal(finalOnly, '**The soak found 1 violation(s)** — all in the final check, e.g. lost: k.');
  assert.equal(headline({ violations: [], final: noFinding, runs: [tickRun('completed')] }), 'Every check after every tick, and the final one, held all four invariants.');
  assert.match(headline({ violations: [], final: noFinding, runs: [tickRun('stuck')] }), /but 1 run\(s\) stuck/);
});

test('the table of soak runs keeps every row across soaks and chaos rewrites; the section above it is the newest', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'soak-series-')), 'RELIABILITY.md');
  fs.writeFileSync(file, '# Reliability\n\nchaos v1\n');
  writeSoakSection(file, '## Soak\n\nseed 1 section', '| a | seed 1 |');
  writeSoakSection(file, '## Soak\n\nseed 2 section', '| b | seed 2 |');
  fs.writeFileSync(file, keepSoakSection('# Reliability\n\nchaos v2\n', fs.readFileSync(file, 'utf8')));
  writeSoakSection(file, '## Soak\n\nseed 3 section', '| c | seed 3 |');
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /chaos v2[\s\S]*seed 3 section[\s\S]*### Every soak run[\s\S]*\| a \| seed 1 \|\n\| b \| seed 2 \|\n\| c \| seed 3 \|\n\n<!-- soak:end -->/);
  assert.doesNotMatch(text, /seed [12] section/);
  assert.equal(fs.existsSync(`${file}.lock`), false, 'the lock file is gone');
  fs.rmSync(path.dirname(file), { recursive: true });
});
