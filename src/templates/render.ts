/**
 * Email templates: a subject line, an HTML part and a text part in Liquid (engine.ts), with shared partials.
 * Compiled and checked once (at worker start, `schedule create` and the CLI: the job registry compiles every
 * template a job uses) — a syntax error, an unknown filter, a missing partial, or a variable the job does not
 * provide stops the process with the template's name and the place. At send time a missing value is a
 * TemplateError (permanent: that recipient's key becomes a dead letter with the reason), and a value that would
 * put a line break into the subject is refused (header injection).
 */
import type { Liquid, Template } from 'liquidjs';
import { TemplateError } from '../errors';
import { createEngines } from './engine';

export interface EmailTemplate {
  name: string;
  /** One line (a trailing line break is ignored). */
  subject: string;
  text: string;
  html: string;
  /** Partials by name (`{% render 'footer' %}`), e.g. a template folder's partials/ (files.ts). */
  partials?: Readonly<Record<string, string>>;
}

/** A value a template can use: text, numbers, and lists or objects of them (for loops). */
export type TemplateValue = string | number | boolean | null | undefined | readonly TemplateValue[] | { readonly [key: string]: TemplateValue };
export type TemplateValues = Record<string, TemplateValue>;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Values sendonce itself gives every template. `unsubscribeUrl` is empty when the email has no unsubscribe link. */
export const BUILT_IN_VARIABLES: readonly string[] = ['window', 'unsubscribeUrl'];

interface Compiled {
  engines: { html: Liquid; plain: Liquid };
  parts: { subject: Template[]; text: Template[]; html: Template[] };
  variables: string[];
}

const PARTS = ['subject', 'text', 'html'] as const;
const compiled = new WeakMap<EmailTemplate, Compiled>();

/** Parse and analyse once per template object; every problem is a TemplateError naming the template and part. */
function compile(template: EmailTemplate): Compiled {
  const done = compiled.get(template);
  if (done) return done;
  const engines = createEngines(template.partials ?? {});
  const subject = template.subject.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(subject)) throw new TemplateError(`template '${template.name}': the subject must be one line`);
  const sources = { subject, text: template.text, html: template.html };
  const parts = {} as Compiled['parts'];
  const variables = new Set<string>();
  for (const part of PARTS) {
    const engine = part === 'html' ? engines.html : engines.plain;
    try {
      parts[part] = engine.parse(sources[part]);
      // Globals: what the template reads from outside (loop variables and assigns are not), partials included.
      for (const name of engine.globalVariablesSync(parts[part])) variables.add(name);
    } catch (err) {
      throw new TemplateError(`template '${template.name}' (${part}): ${firstLine(err)}`);
    }
  }
  const result = { engines, parts, variables: [...variables].sort() };
  compiled.set(template, result);
  return result;
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];

/** The top-level variables a template reads, across subject, text, HTML and their partials. */
export function templateVariables(template: EmailTemplate): string[] {
  return compile(template).variables;
}

/** Throws TemplateError when the template does not compile, or uses a variable the job does not provide. */
export function validateTemplate(template: EmailTemplate, providedVariables: readonly string[]): void {
  const missing = templateVariables(template).filter((v) => !providedVariables.includes(v));
  if (missing.length > 0) {
    throw new TemplateError(
      `template '${template.name}' uses {{${missing.join('}}, {{')}}} but the job provides only: ${providedVariables.join(', ') || 'nothing'}`,
    );
  }
}

export function renderTemplate(template: EmailTemplate, values: TemplateValues): RenderedEmail {
  const { engines, parts, variables } = compile(template);
  // The same words as before the engine change, for the dead letter's reason: which value is missing.
  for (const name of variables) {
    if (values[name] === undefined || values[name] === null) throw new TemplateError(`template '${template.name}': no value for {{${name}}}`);
  }
  const render = (part: (typeof PARTS)[number]) => {
    try {
      return String(engines[part === 'html' ? 'html' : 'plain'].renderSync(parts[part], values));
    } catch (err) {
      // e.g. `undefined variable: item.title, line:3, col:9` — names, never values.
      throw new TemplateError(`template '${template.name}' (${part}): ${firstLine(err)}`);
    }
  };
  const subject = render('subject');
  if (/[\r\n]/.test(subject)) {
    throw new TemplateError(`template '${template.name}': a value put a line break into the subject`);
  }
  return { subject, text: render('text'), html: render('html') };
}
