import { TemplateError } from '../errors';
import type { EmailTemplate } from './render';

export * from './render';

/** All templates by name. Add yours here. */
export const templates: Readonly<Record<string, EmailTemplate>> = {
  'daily-digest': {
    name: 'daily-digest',
    subject: 'Your daily digest for {{window}}',
    text: 'Hi {{name}},\n\nhere is your digest for {{window}}.\n\n— sendonce demo\n',
    html: '<p>Hi {{name}},</p><p>here is your digest for <b>{{window}}</b>.</p><p>— sendonce demo</p>',
  },
  // For one-off emails (src/jobs/one-off.ts): subject and body come from the scheduled row's values.
  notice: {
    name: 'notice',
    subject: '{{subject}}',
    text: '{{body}}\n',
    html: '<p>{{body}}</p>',
  },
};

export function getTemplate(name: string, registry: Readonly<Record<string, EmailTemplate>> = templates): EmailTemplate {
  const template = registry[name];
  if (!template) {
    throw new TemplateError(`unknown template '${name}' (known: ${Object.keys(registry).join(', ') || 'none'})`);
  }
  return template;
}
