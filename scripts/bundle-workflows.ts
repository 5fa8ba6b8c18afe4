/**
 * Build the workflow bundle once, ahead of time (Dockerfile build stage, tests), so a worker starts in
 * about a second instead of running webpack at every start, and every replica runs byte-identical workflow
 * code. The worker loads it with WORKFLOW_BUNDLE_PATH=<file> (`workflowBundle: { codePath }`).
 *
 * Usage: node --import tsx scripts/bundle-workflows.ts [out file]   (default dist/workflow-bundle.js)
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const WORKFLOWS_PATH = path.resolve(__dirname, '../src/workflows');

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };

export async function writeWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: quiet });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, code);
  return outFile;
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  writeWorkflowBundle(out).then(
    (file) => console.log(`workflow bundle written to ${file} (${fs.statSync(file).size} bytes)`),
    (err: Error) => {
      console.error(`bundling failed: ${err.message}`);
      process.exit(1);
    },
  );
}
