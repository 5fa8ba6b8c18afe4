/**
 * The worker's --max-semi-space-size=64 is for the main isolate; the workflow thread the SDK starts would inherit it
 * and grow a 128 MB young generation over a long run (src/workflow-thread-memory.ts). Measured in a child node
 * started with the worker's flag, as the worker is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { WORKFLOW_THREAD_SEMI_SPACE_MB } from '../../src/workflow-thread-memory';

const fixture = path.join(__dirname, '../fixtures/young-generation.ts');

function youngGenerationMb(...args: string[]): { thread: number; main: number } {
  const out = execFileSync(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', fixture, ...args], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { thread: number; main: number };
}

test('the workflow thread gets V8 default young generation; the main isolate keeps the 64 MB semi-spaces', () => {
  const inherited = youngGenerationMb();
  assert.ok(inherited.thread > 2 * WORKFLOW_THREAD_SEMI_SPACE_MB, `without the cap a thread inherits the flag (${inherited.thread} MB)`);
  const capped = youngGenerationMb('cap');
  assert.ok(capped.thread <= 2 * WORKFLOW_THREAD_SEMI_SPACE_MB, `capped thread: ${capped.thread} MB`);
  assert.ok(capped.main > 2 * WORKFLOW_THREAD_SEMI_SPACE_MB, `the main isolate keeps its own (${capped.main} MB)`);
});
