// The workflow bundle's entry point: every workflow type the worker registers.
export { batchWorkflow } from './batch';
export { pruneWorkflow } from './prune';
