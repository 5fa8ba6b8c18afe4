/**
 * The worker process runs with `--max-semi-space-size=64` (package.json's `worker` script, the Dockerfile): a 64 MB
 * young generation lets the in-flight sends' short-lived buffers die young instead of being promoted. V8 flags are
 * process-wide, and the SDK runs workflow code in a worker thread of its own, which inherits the flag: over a
 * one-million-recipient tick that thread's young generation grew 4 → 64 MB per semi-space (128 MB in all) while it
 * held ~25 MB, and the worker's RSS grew with it — 456 → 590 MB (BENCHMARKS.md, "One million recipients").
 *
 * An isolate reads its heap limits when it is created, so setting the flag back to V8's own default just before the
 * workflow thread starts caps that thread alone; the main isolate keeps the young generation it was started with
 * (test/unit/workflow-thread-memory.test.ts checks both).
 */
import v8 from 'node:v8';

/** V8's default semi-space cap on 64-bit (MB): what the workflow thread would get without the process flag. */
export const WORKFLOW_THREAD_SEMI_SPACE_MB = 16;

/** Call right before Worker.create starts the workflow thread (src/sendonce-worker.ts). */
export function capWorkflowThreadYoungGeneration(): void {
  v8.setFlagsFromString(`--max-semi-space-size=${WORKFLOW_THREAD_SEMI_SPACE_MB}`);
}
