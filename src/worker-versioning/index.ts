/** Safe deploys: Worker Versioning settings, joining a deployment, steering it (status, promote, rollback), and watching that its current version is served. */
export * from './options';
export * from './deployments';
export * from './join';
export * from './watch';
