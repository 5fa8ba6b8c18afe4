/**
 * The demo's jobs module (SENDONCE_JOBS_MODULE): the daily digest over the demo's `users` (devkit/demo/schema.sql),
 * plus the built-in one-off `scheduled-notices`. `npm start` runs it (devkit/start.ts), and so does a worker process
 * of the tests given no jobs module of its own (devkit/worker-process.ts). The image's default registry is the
 * built-in one only (src/jobs/index.ts): a deployment has no demo tables for the digest to read.
 */
import path from 'node:path';
import { scheduledNotices, type JobDefinition } from '../../src/jobs';
import { dailyDigest } from './daily-digest';

export { dailyDigest } from './daily-digest';

/** This file, for SENDONCE_JOBS_MODULE. */
export const DEMO_JOBS_MODULE = path.join(__dirname, 'jobs.ts');

export const jobs: readonly JobDefinition[] = [dailyDigest, scheduledNotices];
