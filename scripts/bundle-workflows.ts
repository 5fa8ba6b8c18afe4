/**
 * Build the workflow bundle once, ahead of time (Dockerfile build stage): src/workflow-bundle.ts says why.
 * The worker loads it with WORKFLOW_BUNDLE_PATH=<file> (`workflowBundle: { codePath }`).
 *
 * Usage: node --import tsx scripts/bundle-workflows.ts [out file]   (default dist/workflow-bundle.js)
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeWorkflowBundle } from '../src/workflow-bundle';

const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
writeWorkflowBundle(out).then(
  (file) => console.log(`workflow bundle written to ${file} (${fs.statSync(file).size} bytes)`),
  (err: Error) => {
    console.error(`bundling failed: ${err.message}`);
    process.exit(1);
  },
);
