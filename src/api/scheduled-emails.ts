/**
 * Schedule a one-off email for a time: one row in scheduled_emails, sent by the first tick of the one-off job
 * for its template whose nominal time is at or after `at` (src/jobs/one-off.ts). Everything that can be checked
 * now is checked now — the address, the template, every variable it needs — not at send time.
 */
import type { Pool } from 'pg';
import { ScheduleEmailError } from '../errors';
import { createJobRegistry, type JobDefinition, type JobRegistry } from '../jobs';
import { assertValidAddress } from '../delivery';
import { BUILT_IN_VARIABLES, templateVariables } from '../templates';

export interface ScheduleEmailRequest {
  to: string;
  /** A template served by a one-off job of the registry (default: `notice`, job scheduled-notices). */
  template: string;
  values: Record<string, string | number>;
  at: Date;
}

export interface ScheduledEmail {
  id: string;
  jobName: string;
  dueAt: string;
}

export async function scheduleEmail(pool: Pool, req: ScheduleEmailRequest, jobs: JobRegistry = createJobRegistry()): Promise<ScheduledEmail> {
  assertValidAddress(req.to, '--to');
  if (!(req.at instanceof Date) || Number.isNaN(req.at.getTime())) {
    throw new ScheduleEmailError('--at is not a valid time: use ISO 8601, e.g. 2026-11-22T09:00:00Z');
  }
  const job = oneOffJobFor(jobs, req.template);
  checkValues(req.values, templateVariables(jobs.template(job)).filter((v) => !BUILT_IN_VARIABLES.includes(v)), req.template);
  const { rows } = await pool.query<{ id: string; due_at: Date }>(
    `INSERT INTO sendonce.scheduled_emails (email, template, "values", due_at) VALUES ($1, $2, $3, $4) RETURNING id::text AS id, due_at`,
    [req.to, req.template, JSON.stringify(req.values), req.at],
  );
  const row = rows[0]!;
  return { id: row.id, jobName: job.name, dueAt: row.due_at.toISOString() };
}

function oneOffJobFor(jobs: JobRegistry, template: string): JobDefinition {
  const oneOff = jobs.all().filter((j) => j.kind === 'one-off');
  const job = oneOff.find((j) => j.template === template);
  if (!job) {
    const served = oneOff.map((j) => j.template).join(', ') || 'none';
    throw new ScheduleEmailError(`no one-off job sends template '${template}' (one-off templates: ${served}); add one with oneOffJob() in your jobs`);
  }
  return job;
}

function checkValues(values: unknown, needed: string[], template: string): void {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ScheduleEmailError(`--values must be a JSON object, e.g. {"subject":"Hi","body":"…"}`);
  }
  const v = values as Record<string, unknown>;
  const missing = needed.filter((name) => v[name] === undefined || v[name] === null);
  if (missing.length > 0) throw new ScheduleEmailError(`template '${template}' needs ${missing.map((m) => `"${m}"`).join(', ')} in --values (needs: ${needed.join(', ')})`);
  const bad = Object.entries(v).filter(([, x]) => typeof x !== 'string' && typeof x !== 'number').map(([k]) => k);
  if (bad.length > 0) throw new ScheduleEmailError(`--values: ${bad.join(', ')} must be strings or numbers`);
}
