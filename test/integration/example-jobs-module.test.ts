/**
 * docs/adding-a-job.md shows examples/weekly-report.ts as a complete jobs module: this test loads it the way
 * the worker does (SENDONCE_JOBS_MODULE), runs it on real services, and checks the docs show it verbatim.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadJobRegistry } from '../../src/jobs';
import { harnessFor, runBatch } from '../support/never-twice';
import { userEmails } from '../../devkit/seed';

const MODULE = path.resolve(__dirname, '../../examples/weekly-report.ts');

test('the documented jobs module loads, validates and sends each recipient once per window', async (t) => {
  const registry = loadJobRegistry(MODULE); // as the worker loads SENDONCE_JOBS_MODULE
  const job = registry.get('weekly-report');
  const { templates } = require(MODULE) as typeof import('../../examples/weekly-report');
  const h = await harnessFor(t, [job], { templates });
  const addresses = userEmails(1_100); // more than one page: '1000' < '999' as text, so the keyset order matters
  await h.seedUsers(addresses);
  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, addresses.length);
  const again = await runBatch(h, job);
  assert.deepEqual([again.counts.sent, again.counts.deduped], [0, addresses.length]);
  assert.equal(h.sink.messages()[0]?.subject, `Your week in review (${summary.window})`);
});

test('docs/adding-a-job.md shows examples/weekly-report.ts exactly', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/adding-a-job.md'), 'utf8');
  assert.ok(doc.includes('```ts\n' + fs.readFileSync(MODULE, 'utf8') + '```\n'), 'the code block in docs/adding-a-job.md is the file');
});
