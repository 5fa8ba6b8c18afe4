import path from 'node:path';
import { UnknownJobError, ConfigError } from '../errors';
import { BUILT_IN_VARIABLES, getTemplate, validateTemplate, type EmailTemplate, templates as defaultTemplates } from '../templates';
import { assertTimezone } from '../window';
import { oneOffJob } from './one-off';
import type { JobDefinition } from './types';
import { finishWithinProblems, rateLimitProblems, reservedNameProblems, sharedTemplateProblems, timeBudgetProblems, timezoneProblems } from './validate';

export * from './types';
export { oneOffJob, type OneOffJobOptions } from './one-off';
export { groupedLoader } from './grouped-loader';

/** One-off emails with the `notice` template, looked for every minute (`sendonce email schedule`). */
export const scheduledNotices: JobDefinition = oneOffJob({ name: 'scheduled-notices', template: defaultTemplates.notice! });

/**
 * The jobs a worker runs without SENDONCE_JOBS_MODULE: the built-in one-off notices only. Your jobs go in your own
 * module (docs/adding-a-job.md; examples/weekly-report.ts). The demo daily digest is the development kit's
 * (devkit/demo/jobs.ts, what `npm start` runs): it reads demo tables a deployment does not have (issue 25).
 */
export const defaultJobs: readonly JobDefinition[] = [scheduledNotices];

export interface JobRegistry {
  get(name: string): JobDefinition;
  all(): readonly JobDefinition[];
  template(job: JobDefinition): EmailTemplate;
}

const JOB_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Build the registry and check every job up front — name, timezones, template and its variables, rate limit, time
 * budget, and that no two jobs share keys — so a mistake stops the worker at start-up, not at the first send.
 */
export function createJobRegistry(
  jobs: readonly JobDefinition[] = defaultJobs,
  templateRegistry: Readonly<Record<string, EmailTemplate>> = defaultTemplates,
): JobRegistry {
  const byName = new Map<string, JobDefinition>();
  const problems: string[] = [];
  for (const job of jobs) {
    if (!JOB_NAME.test(job.name)) problems.push(`job '${job.name}': name must match ${JOB_NAME}`);
    if (byName.has(job.name)) problems.push(`job '${job.name}' is defined twice`);
    byName.set(job.name, job);
    try {
      assertTimezone(job.window.timezone);
      if (job.schedule.timezone) assertTimezone(job.schedule.timezone);
      // Compiles the template too: a syntax error, unknown filter or missing partial is refused here.
      validateTemplate(getTemplate(job.template, templateRegistry), [...job.variables, ...BUILT_IN_VARIABLES]);
      problems.push(...rateLimitProblems(job), ...timeBudgetProblems(job), ...timezoneProblems(job), ...reservedNameProblems(job), ...finishWithinProblems(job));
      if (job.kind === 'one-off' && job.window.granularity !== 'once') problems.push(`job '${job.name}': a one-off job needs the 'once' window`);
    } catch (err) {
      problems.push(`job '${job.name}': ${(err as Error).message}`);
    }
  }
  problems.push(...sharedTemplateProblems(jobs));
  if (problems.length > 0) throw new ConfigError(`invalid job definitions:\n  - ${problems.join('\n  - ')}`);
  return {
    get(name) {
      const job = byName.get(name);
      if (!job) throw new UnknownJobError(`unknown job '${name}' (known: ${[...byName.keys()].join(', ') || 'none'})`);
      return job;
    },
    all: () => [...byName.values()],
    template: (job) => getTemplate(job.template, templateRegistry),
  };
}

/**
 * The registry a process runs with: the jobs (and templates) exported by SENDONCE_JOBS_MODULE when set —
 * so you can keep your jobs in your own module — else the built-in ones. Worker, schedule and CLI agree.
 * A module's `templates` are objects ({ name, subject, text, html }), typically read from its own folder with
 * loadTemplateDir() (docs/adding-a-job.md); they are added to the built-in ones.
 */
export function loadJobRegistry(jobsModule: string | undefined): JobRegistry {
  if (!jobsModule) return createJobRegistry();
  const resolved = path.resolve(jobsModule);
  let mod: { jobs?: readonly JobDefinition[]; templates?: Record<string, EmailTemplate> };
  try {
    mod = require(resolved) as typeof mod;
  } catch (err) {
    throw new ConfigError(`SENDONCE_JOBS_MODULE: cannot load ${resolved}: ${(err as Error).message}`);
  }
  if (!Array.isArray(mod.jobs)) throw new ConfigError(`SENDONCE_JOBS_MODULE: ${resolved} does not export \`jobs\` (an array of job definitions)`);
  return createJobRegistry(mod.jobs, { ...defaultTemplates, ...mod.templates });
}
