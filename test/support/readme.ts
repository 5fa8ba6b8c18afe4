/**
 * The docs' own command blocks, for tests that run them as they are written: a fenced block right after an
 * `<!-- e2e: NAME -->` marker, one command per line (`\` continues a line, `#` starts a comment), split into words
 * the way a shell would for these simple lines (single and double quotes, no expansions). A marker may sit in
 * README.md or in any docs/*.md, but only once in all of them.
 */
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const README = path.join(ROOT, 'README.md');
export const DOCS_DIR = path.join(ROOT, 'docs');

/** README.md, then every docs/*.md in name order: the files a reader is sent to. */
export function docFiles(): string[] {
  const docs = fs.existsSync(DOCS_DIR) ? fs.readdirSync(DOCS_DIR).filter((f) => f.endsWith('.md')).sort() : [];
  return [README, ...docs.map((f) => path.join(DOCS_DIR, f))];
}

const MARKER = /<!-- e2e: (.+?) -->/g;

/** Every marker name in the docs, with the files it occurs in (once each time it occurs). */
export function docMarkers(): Map<string, string[]> {
  const markers = new Map<string, string[]>();
  for (const file of docFiles()) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(MARKER)) {
      markers.set(m[1]!, [...(markers.get(m[1]!) ?? []), path.relative(ROOT, file)]);
    }
  }
  return markers;
}

/** The lines of the fenced block after `<!-- e2e: name -->`, wherever in README.md and docs/*.md it is. */
export function readmeBlock(name: string): string[] {
  const marker = `<!-- e2e: ${name} -->`;
  const found = docFiles().flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    return text.split(marker).slice(1).map(() => ({ file, text }));
  });
  if (found.length !== 1) {
    const where = found.length === 0 ? 'none' : `${found.length}, in ${found.map((f) => path.relative(ROOT, f.file)).join(', ')}`;
    throw new Error(`${marker} must mark exactly one block in README.md and docs/*.md; found ${where}`);
  }
  const { file, text } = found[0]!;
  const after = text.slice(text.indexOf(marker) + marker.length);
  const open = /^\s*```[^\n]*\n/.exec(after);
  if (!open) throw new Error(`${marker} in ${path.relative(ROOT, file)} is not followed by a fenced block`);
  const rest = after.slice(open[0].length);
  const close = rest.indexOf('\n```');
  if (close < 0) throw new Error(`${marker} in ${path.relative(ROOT, file)}: its fenced block is never closed`);
  return rest.slice(0, close).split('\n');
}

/** Shell-like words of one command line: quotes group and are removed; an unquoted `#` starts a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? '') + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (ch === '#' && word === undefined) {
      break;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote) throw new Error(`unbalanced quote in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The commands of a block: continued lines joined, comments and blank lines dropped, each as words. */
export function readmeCommands(name: string): string[][] {
  const joined = readmeBlock(name).join('\n').replace(/\\\n\s*/g, ' ');
  return joined.split('\n').map(shellWords).filter((words) => words.length > 0);
}
