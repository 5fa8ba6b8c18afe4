/** Safe deploys: Worker Versioning settings, joining a deployment, and steering it (status, promote, rollback). */
export * from './versioning';
export * from './deployments';
export * from './join';
