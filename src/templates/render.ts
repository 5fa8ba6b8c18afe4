/**
 * Minimal, strict templates: `{{name}}` placeholders, nothing else. Values are HTML-escaped in the HTML part,
 * and CR/LF are refused in the subject (header injection). A placeholder without a value is an error, never an
 * empty string in a customer's inbox. Validation runs at worker start and schedule creation (validateTemplate).
 */
import { TemplateError } from '../errors';

export interface EmailTemplate {
  name: string;
  subject: string;
  text: string;
  html: string;
}

export type TemplateValues = Record<string, string | number | null | undefined>;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The variable names a template uses, across subject, text and HTML. */
export function templateVariables(template: EmailTemplate): string[] {
  const names = new Set<string>();
  for (const part of [template.subject, template.text, template.html]) {
    for (const match of part.matchAll(PLACEHOLDER)) names.add(match[1]!);
  }
  return [...names].sort();
}

/** Throws TemplateError when the template uses a variable the job does not provide. */
export function validateTemplate(template: EmailTemplate, providedVariables: readonly string[]): void {
  const missing = templateVariables(template).filter((v) => !providedVariables.includes(v));
  if (missing.length > 0) {
    throw new TemplateError(
      `template '${template.name}' uses {{${missing.join('}}, {{')}}} but the job provides only: ${providedVariables.join(', ') || 'nothing'}`,
    );
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fill(part: string, values: TemplateValues, templateName: string, escape: (s: string) => string): string {
  return part.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined || value === null) {
      throw new TemplateError(`template '${templateName}': no value for {{${name}}}`);
    }
    return escape(String(value));
  });
}

export function renderTemplate(template: EmailTemplate, values: TemplateValues): RenderedEmail {
  const subject = fill(template.subject, values, template.name, (s) => s);
  if (/[\r\n]/.test(subject)) {
    throw new TemplateError(`template '${template.name}': a value put a line break into the subject`);
  }
  return {
    subject,
    text: fill(template.text, values, template.name, (s) => s),
    html: fill(template.html, values, template.name, escapeHtml),
  };
}
