/**
 * The template engine: LiquidJS (docs/adding-a-job.md, "Templates", has the comparison). Two engines per template, because the
 * parts differ in one thing only — the HTML part escapes every output by default (`{{ x | raw }}` opts out), the
 * subject and text parts do not (they are not HTML: `&amp;` in a subject line is a bug).
 * Settings, each for a guarantee:
 *   strictVariables   a variable or property without a value is an error at render (UndefinedVariableError), never an
 *                     empty string in someone's inbox
 *   strictFilters     an unknown filter is an error when the template is parsed (at start-up), not ignored
 *   ownPropertyOnly   no walking into prototypes (`{{ x.constructor }}` is undefined, hence an error)
 *   templates         partials come from memory (read once at start-up, files.ts): no disk reads while sending,
 *                     and a missing partial is found by the start-up check, not by the first send
 *   relativeReference off: a partial is named, not a path that could climb out of the template folder
 * Liquid itself is sandboxed — templates call no JavaScript — so a template file is data, not code.
 */
import { Liquid } from 'liquidjs';

export function createEngines(partials: Readonly<Record<string, string>>): { html: Liquid; plain: Liquid } {
  const common = {
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    relativeReference: false,
    templates: { ...partials },
  };
  return { html: new Liquid({ ...common, outputEscape: 'escape' }), plain: new Liquid(common) };
}
