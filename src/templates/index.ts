import path from 'node:path';
import { TemplateError } from '../errors';
import { loadTemplateDir } from './files';
import type { EmailTemplate } from './render';

export * from './render';
export { loadTemplateDir } from './files';

/** The built-in templates' folder (copied next to the compiled code by deploy/build.sh). */
export const BUILT_IN_TEMPLATE_DIR = path.join(__dirname, 'builtin');

/**
 * All built-in templates by name, read from BUILT_IN_TEMPLATE_DIR: `daily-digest` (the demo job) and `notice`
 * (one-off emails, src/jobs/one-off.ts: subject and body come from the scheduled row's values). Your own go in
 * your jobs module's folder (`templateDir`, docs/adding-a-job.md).
 */
export const templates: Readonly<Record<string, EmailTemplate>> = loadTemplateDir(BUILT_IN_TEMPLATE_DIR);

export function getTemplate(name: string, registry: Readonly<Record<string, EmailTemplate>> = templates): EmailTemplate {
  const template = registry[name];
  if (!template) {
    throw new TemplateError(`unknown template '${name}' (known: ${Object.keys(registry).join(', ') || 'none'})`);
  }
  return template;
}
