/**
 * A failed soak keeps what its diagnosis needs (scripts/soak/evidence.ts): here on a real database with the
 * soak's observers installed and a real SMTP sink, a key recorded sent with no message at the sink (issue 28's
 * violation) gets its story — every version of its row, the sink's record, its runs, the faults around it and its
 * recipient's worker log lines — next to the raw files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase } from '../../devkit/test-database';
import { installClaimLog } from '../../scripts/chaos/claim-log';
import { keysIn, writeEvidence } from '../../scripts/soak/evidence';
import { claim, markSent } from '../../src/sends';

const KEY = 'email:soak-limited:31:2031-01-05';

test('keysIn finds every key a violation names', () => {
  assert.deepEqual(keysIn(`soak-limited: ${KEY} is recorded sent but the sink has no message for it`), [KEY]);
  assert.deepEqual(keysIn('overlap: 1 claim(s) with an older fence …, e.g. email:t:1:2026-11-20 with fence 1 at …'), ['email:t:1:2026-11-20']);
  assert.deepEqual(keysIn('run soak-digest-tick-3 ended but job_runs still says running'), []);
});

test('the evidence of a failed soak: raw files, and each violating key told from every source', async (t) => {
  const db = await createTestDatabase('soak_evidence');
  t.after(() => db.drop());
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  await installClaimLog(db.pool);
  const claimed = await claim(db.pool, {
    key: KEY, jobName: 'soak-limited', template: 'soak-limited', recipientId: '31', window: '2031-01-05', fence: 3,
    runId: 'soak-limited-tick-7', messageId: '<k31@sendonce.test>', leaseMs: 4_000, maximumAttempts: 5, resendUnknownOnce: false,
  });
  assert.equal(claimed.kind, 'claimed');
  await markSent(db.pool, KEY, 1, { smtpResponse: '250 ok' });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-evidence-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const now = Date.now();
  const violation = `soak-limited: ${KEY} is recorded sent but the sink has no message for it`;
  const workerLine = { level: 40, msg: 'send_attempt_failed', jobName: 'soak-limited', recipientId: '31', runId: 'soak-limited-tick-7' };
  await writeEvidence(dir, {
    seed: 20261207,
    world: {
      pool: db.pool,
      sink,
      workers: { workers: [{ n: 1, bundlePath: '/tmp/workflow-bundle.js', retired: false, proc: { child: { pid: 4242 }, lines: [workerLine], output: () => `${JSON.stringify(workerLine)}\n` } }] },
    },
    runs: [{ kind: 'tick', job: 'soak-limited', window: '2031-01-05', workflowId: 'soak-limited-tick-7', runId: 'run-7', outcome: 'completed', sent: 29, startedAt: new Date(now - 5_000), endedAt: new Date(now - 1_000) }],
    injections: [
      { kind: 'worker-pause', startedAt: now - 10_000, endedAt: now - 2_000, detail: 'worker 1 for 8000 ms', recovered: true },
      { kind: 'smtp-down', startedAt: now - 3_600_000, endedAt: now - 3_599_000, recovered: true }, // an hour before: not around it
    ],
    checks: [{ tick: 7, final: false, reads: { sinkBefore: new Date(now), sinkAfter: new Date(now + 40), messagesBefore: 0, messagesAfter: 0 }, violations: [violation] }],
    violations: [violation],
  });

  for (const file of ['README.md', 'checks.jsonl', 'sink.jsonl', 'faults.jsonl', 'runs.jsonl', 'send-history.jsonl', 'workers/1.log']) {
    assert.ok(fs.existsSync(path.join(dir, file)), `${file} is kept`);
  }
  const history = fs.readFileSync(path.join(dir, 'send-history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string });
  assert.deepEqual(history.map((h) => h.state), ['claimed', 'sent'], 'every version of the row');
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  assert.match(readme, /## email:soak-limited:31:2031-01-05/);
  assert.match(readme, /Found by the check after tick 7: sink read at .* \(0 messages\), rows read, sink read again at/);
  assert.match(readme, /\| [^|]+ \| INSERT \| claimed \| 1 \| 0 \| 3 \| soak-limited-tick-7 \|/);
  assert.match(readme, /\| [^|]+ \| UPDATE \| sent \| 1 \| 0 \| 3 \| soak-limited-tick-7 \|/);
  assert.match(readme, /No message with this key, to the end of the soak\./);
  assert.match(readme, /\| tick \| soak-limited-tick-7 \| run-7 \| .* \| completed \| 29 \|/);
  assert.match(readme, /\| worker-pause \| .* \| worker 1 for 8000 ms \|/);
  assert.doesNotMatch(readme, /smtp-down/, 'a fault an hour earlier is not "around" the key');
  assert.match(readme, /worker 1: \{"level":40,"msg":"send_attempt_failed"/);
});
