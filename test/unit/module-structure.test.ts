/**
 * The shape of src/ (docs/how-it-works.md): no module imports itself back through others — type-only imports
 * count too, since a cycle over a type still ties two files' changes together — and no two files share a name
 * unless they are the same kind of thing in parallel folders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';

const ROOT = path.resolve(__dirname, '../..');
const SRC = path.join(ROOT, 'src');

/** The part of madge's API used here (madge ships no types). */
type Madge = (root: string, config: Record<string, unknown>) => Promise<{ circular(): string[][] }>;
const madge = require('madge') as Madge;

test('src/ has no import cycles (madge, type-only imports included)', async () => {
  const graph = await madge(SRC, {
    fileExtensions: ['ts'],
    tsConfig: path.join(ROOT, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false } },
  });
  const cycles = graph.circular().map((cycle) => cycle.join(' → '));
  assert.deepEqual(cycles, [], `import cycles in src/:\n  ${cycles.join('\n  ')}`);
});

/**
 * Basenames that may repeat, and why: each is one kind of thing with a copy per area (a folder's entry point,
 * its types, its migrations' names), or a command and the API function it wraps (`cli/x.ts` beside `api/x.ts`).
 */
const SHARED_BY_DESIGN = new Set(['index.ts', 'types.ts']);
const PARALLEL_FOLDERS: ReadonlyArray<readonly [string, string]> = [['api', 'cli']];

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : /\.(ts|lua)$/.test(e.name) ? [path.relative(SRC, full)] : [];
  });
}

test('no two files in src/ share a name unless they are parallel (api/x beside cli/x, index, types)', () => {
  const byName = new Map<string, string[]>();
  for (const file of filesUnder(SRC)) byName.set(path.basename(file), [...(byName.get(path.basename(file)) ?? []), file]);
  const parallel = (files: string[]) =>
    PARALLEL_FOLDERS.some((folders) => files.length === folders.length && folders.every((f) => files.some((file) => path.dirname(file) === f)));
  const clashes = [...byName].filter(([name, files]) => files.length > 1 && !SHARED_BY_DESIGN.has(name) && !parallel(files));
  assert.deepEqual(clashes.map(([, files]) => files.join(' & ')), []);
});
