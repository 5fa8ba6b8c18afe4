/** Safe deploys: Worker Versioning settings, joining a deployment, and steering it (status, promote, rollback). */
export * from './options';
export * from './deployments';
export * from './join';
