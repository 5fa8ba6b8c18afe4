/**
 * The jobs the chaos workers run (SENDONCE_JOBS_MODULE=scripts/chaos/jobs.ts): the demo digest over the users
 * table, with retry bounds shrunk to seconds so a scenario's outage (a few seconds) is ridden out by retries
 * the way production's defaults ride out longer ones. Same shape as production: bounded attempts, backoff,
 * an attempt timeout above the SMTP socket timeout, a total bound.
 */
import { dailyDigest } from '../../devkit/demo/daily-digest';
import type { JobDefinition, SendRetryOptions } from '../../src/jobs/types';
import { templates as builtIn, type EmailTemplate } from '../../src/templates';

export const CHAOS_RETRY: SendRetryOptions = {
  maximumAttempts: 5,
  initialIntervalMs: 500,
  backoffCoefficient: 2,
  maximumIntervalMs: 4_000,
  // Above SMTP_SOCKET_TIMEOUT_MS (2 s, see world.ts): a hung server ends the attempt before Temporal does.
  attemptTimeoutMs: 4_000,
  totalTimeoutMs: 90_000,
};

/**
 * Chunks of 25 with 50 recipients in flight (the defaults are 100 and 400): a scenario's 150 recipients make six
 * send activities handed out two at a time, so the two workers of scenarios 2 and 11 both take part in a run
 * (with all chunks scheduled at once, one worker's pollers could take them all) and a fault lands among several
 * chunks, not in one of two.
 */
const CHAOS_CHUNKS = { chunkSize: 25, maxInFlight: 50 };

/** unknownPolicy 'record': an ambiguous send is recorded `unknown` and never resent. */
export const chaosDigest: JobDefinition = {
  ...dailyDigest,
  name: 'chaos-digest',
  template: 'chaos-digest',
  retry: CHAOS_RETRY,
  unknownPolicy: 'record',
  ...CHAOS_CHUNKS,
};

/** unknownPolicy 'resend-once': one more copy with the same Message-ID after an ambiguous send. */
export const chaosDigestResend: JobDefinition = {
  ...dailyDigest,
  name: 'chaos-digest-resend',
  template: 'chaos-digest-resend',
  retry: CHAOS_RETRY,
  unknownPolicy: 'resend-once',
  ...CHAOS_CHUNKS,
};

/** Ten-minute ticks for the schedule scenario (duplicate triggers, backfill); daily windows like the demo. */
export const chaosScheduled: JobDefinition = {
  ...chaosDigest,
  name: 'chaos-scheduled',
  template: 'chaos-scheduled',
  schedule: { every: '10m', catchupWindow: '1m', maxRunDuration: '10m' },
};

/**
 * For the deploy scenarios: pages of 25, so a run fetches several pages and version 2's extra activity per page
 * changes its history (a run of version 1 cannot replay on version 2).
 */
export const chaosDeploy: JobDefinition = {
  ...chaosDigest,
  name: 'chaos-deploy',
  template: 'chaos-deploy',
  pageSize: 25,
};

/**
 * One tick per window (a daily digest at 09:00): "the next tick sends the rest" is false here, so the window keeper's
 * follow-up runs must (scenarios/one-tick-windows.ts). Its runs use today's window, whose deadline is ahead.
 */
export const chaosDaily: JobDefinition = {
  ...chaosDigest,
  name: 'chaos-daily',
  template: 'chaos-daily',
  schedule: { cron: '0 9 * * *', maxRunDuration: '1h' },
};

export const jobs: readonly JobDefinition[] = [chaosDigest, chaosDigestResend, chaosScheduled, chaosDeploy, chaosDaily];

/**
 * Each job its own copy of the demo digest: jobs that send one template in daily windows would share keys, and
 * the registry refuses that (src/jobs/validate.ts).
 */
export const templates: Record<string, EmailTemplate> = Object.fromEntries(jobs.map((j) => [j.template, { ...builtIn['daily-digest']!, name: j.template }]));
