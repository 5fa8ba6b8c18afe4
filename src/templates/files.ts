/**
 * Templates from a folder — one subfolder per template, shared partials beside them:
 *
 *   <dir>/daily-digest/subject.liquid   one line
 *   <dir>/daily-digest/html.liquid      the HTML part (outputs escaped)
 *   <dir>/daily-digest/text.liquid      the text part
 *   <dir>/partials/footer-html.liquid   `{% render 'footer-html', unsubscribeUrl: unsubscribeUrl %}`
 *
 * Three files rather than one file with sections: each part opens in an editor with the right highlighting, and
 * there is no section syntax of our own to learn or to get wrong. Read synchronously, once, at start-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TemplateError } from '../errors';
import type { EmailTemplate } from './render';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PARTIALS = 'partials';
const EXT = '.liquid';

export function loadTemplateDir(dir: string): Record<string, EmailTemplate> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new TemplateError(`cannot read the template folder ${dir}: ${(err as Error).message}`);
  }
  const partials = readPartials(path.join(dir, PARTIALS));
  const out: Record<string, EmailTemplate> = {};
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory() || entry.name === PARTIALS) continue;
    if (!NAME.test(entry.name)) throw new TemplateError(`template folder '${entry.name}' in ${dir}: a template name is lower-case letters, digits and '-'`);
    const read = (part: string) => {
      const file = path.join(dir, entry.name, `${part}${EXT}`);
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        throw new TemplateError(`template '${entry.name}': ${file} is missing (a template needs subject${EXT}, html${EXT} and text${EXT})`);
      }
    };
    out[entry.name] = { name: entry.name, subject: read('subject'), html: read('html'), text: read('text'), partials };
  }
  return out;
}

function readPartials(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  const partials: Record<string, string> = {};
  for (const file of fs.readdirSync(dir).sort()) {
    if (file.endsWith(EXT)) partials[file.slice(0, -EXT.length)] = fs.readFileSync(path.join(dir, file), 'utf8');
  }
  return partials;
}
