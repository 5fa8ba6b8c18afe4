/**
 * The soak's jobs (SENDONCE_JOBS_MODULE=scripts/soak/jobs.ts): the chaos suite's shapes side by side on one task
 * queue — a digest that records ambiguous sends, one that resends them once, one under a rate limit (shared in
 * Redis, a short bucket so the soak meets it every few ticks), and a one-off job over scheduled_emails. The retry
 * bounds are the chaos suite's (seconds, so faults are ridden out by retries the way production rides out longer
 * ones).
 */
import { oneOffJob } from '../../src/jobs/one-off';
import type { JobDefinition } from '../../src/jobs/types';
import { templates as builtIn, type EmailTemplate } from '../../src/templates';
import { chaosDigest } from '../chaos/jobs';

export const soakDigest: JobDefinition = { ...chaosDigest, name: 'soak-digest', template: 'soak-digest' };

export const soakResend: JobDefinition = { ...chaosDigest, name: 'soak-resend', template: 'soak-resend', unknownPolicy: 'resend-once' };

/** 30 sends per 3-second bucket for the job's own sender: a tick of 40 recipients waits for the next bucket. */
export const soakLimited: JobDefinition = {
  ...chaosDigest,
  name: 'soak-limited',
  template: 'soak-limited',
  rateLimit: { perSenderPerHour: 30, bucketMs: 3_000, sender: 'soak-limited' },
};

const noticeTemplate: EmailTemplate = { ...builtIn.notice!, name: 'soak-notice' };

export const soakOnce: JobDefinition = {
  ...oneOffJob({ name: 'soak-once', template: noticeTemplate, retry: chaosDigest.retry }),
  chunkSize: 25,
  maxInFlight: 50,
};

/**
 * One tick per window (a 10:00 daily digest): each tick is a new window, so nothing but the window keeper's follow-up
 * runs finishes a window a fault cut short (issue 29). The ticker moves on every tick (ticker.ts).
 */
export const soakDaily: JobDefinition = { ...chaosDigest, name: 'soak-daily', template: 'soak-daily', schedule: { cron: '0 10 * * *', maxRunDuration: '1h' } };

export const recurringJobs: readonly JobDefinition[] = [soakDigest, soakResend, soakLimited, soakDaily];
/** Jobs whose every tick opens a new window: their timelines never tick a window twice. */
export const oneTickJobs: readonly JobDefinition[] = [soakDaily];
export const jobs: readonly JobDefinition[] = [...recurringJobs, soakOnce];

export const templates: Record<string, EmailTemplate> = {
  ...Object.fromEntries(recurringJobs.map((j) => [j.template, { ...builtIn['daily-digest']!, name: j.template }])),
  [noticeTemplate.name]: noticeTemplate,
};
