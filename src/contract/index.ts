/** The workflow-safe contract shared by workflows, activities, metrics, the API and the CLI. */
export * from './counts';
export * from './run';
export * from './send';
