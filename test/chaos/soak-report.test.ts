/**
 * The soak's bookkeeping on hand-made evidence (scripts/soak/report.ts): pairs are counted from overlapping
 * fault intervals, and the soak's section of RELIABILITY.md survives a chaos run's rewrite and is replaced, not
 * repeated, by the next soak.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Injection } from '../../scripts/soak/nemesis';
import { keepSoakSection, pairCounts, writeSoakSection } from '../../scripts/soak/report';

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
