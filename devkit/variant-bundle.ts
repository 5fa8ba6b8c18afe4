/**
 * A workflow bundle built from a patched copy of src/ — a "next release" whose workflow code differs — for the
 * chaos suite's deploy scenarios and the soak. The copy lives under the repository root (so node_modules
 * resolves) and is removed once the bundle is written.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..');

export interface SourcePatch {
  /** A file under src/, e.g. 'workflows/page-feed.ts'. */
  file: string;
  /** The exact text to find (once) and what to put in its place. */
  find: string;
  replace: string;
}

export async function writeVariantBundle(outFile: string, patches: readonly SourcePatch[]): Promise<string> {
  const copy = path.join(ROOT, `.variant-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.cpSync(path.join(ROOT, 'src'), path.join(copy, 'src'), { recursive: true });
    for (const p of patches) {
      const file = path.join(copy, 'src', p.file);
      const text = fs.readFileSync(file, 'utf8');
      if (text.split(p.find).length !== 2) throw new Error(`variant bundle: '${p.find.slice(0, 60)}…' is not in src/${p.file} exactly once`);
      fs.writeFileSync(file, text.replace(p.find, p.replace));
    }
    const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(copy, 'src', 'workflows')), logger: quiet });
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, code);
    return outFile;
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * "Version 2" of the deploy scenarios: one more activity call per page (the lock is renewed after every page
 * fetch) — harmless for a run that starts on it, a non-determinism error for a run that started on version 1
 * and is replayed on it.
 */
export const ONE_MORE_ACTIVITY_PER_PAGE: SourcePatch = {
  file: 'workflows/page-feed.ts',
  find: '    const page = await nextPage(this.run, this.cursor, pageSize);\n',
  replace:
    '    const page = await nextPage(this.run, this.cursor, pageSize);\n' +
    '    await bookkeeping.renewLock({ jobName: this.run.jobName, token: this.run.carried.lock.token, ttlMs: this.run.settings.lockTtlMs });\n',
};
