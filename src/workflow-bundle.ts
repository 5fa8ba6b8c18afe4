/**
 * The workflow code as one webpack bundle (what a worker loads into its sandbox), built ahead of time so a
 * worker starts in about a second instead of running webpack at every start, and every replica runs
 * byte-identical workflow code. Used by scripts/bundle-workflows.ts (the Dockerfile's build stage), the tests
 * and the chaos suite; the worker loads the file with WORKFLOW_BUNDLE_PATH.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const WORKFLOWS_PATH = require.resolve('./workflows');

/** Webpack's own chatter is noise here; its warnings only when asked for, its errors always. */
function bundlerLogger(warnings: boolean) {
  return { log() {}, trace() {}, debug() {}, info() {}, warn: (m: string) => void (warnings && console.warn(m)), error: (m: string) => console.error(m) };
}

export function bundleWorkflows(options: { warnings?: boolean } = {}): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: bundlerLogger(options.warnings ?? true) });
}

/** Bundle and write it to `outFile` (directories created); returns the file. */
export async function writeWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflows();
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, code);
  return outFile;
}
