/**
 * The README's own command blocks, for tests that run them as they are written: a fenced block right after an
 * `<!-- e2e: NAME -->` marker, one command per line (`\` continues a line, `#` starts a comment), split into words
 * the way a shell would for these simple lines (single and double quotes, no expansions).
 */
import fs from 'node:fs';
import path from 'node:path';

export const README = path.resolve(__dirname, '../../README.md');

/** The lines of the fenced block after `<!-- e2e: name -->`. */
export function readmeBlock(name: string): string[] {
  const text = fs.readFileSync(README, 'utf8');
  const marker = text.indexOf(`<!-- e2e: ${name} -->`);
  if (marker < 0) throw new Error(`README.md has no <!-- e2e: ${name} --> block`);
  const open = text.indexOf('```', marker);
  const body = text.slice(text.indexOf('\n', open) + 1, text.indexOf('\n```', open));
  return body.split('\n');
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
