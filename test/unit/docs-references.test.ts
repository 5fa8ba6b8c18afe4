/**
 * What README.md and docs/*.md name is real (issue 24): a reader who copies a path, a command or a variable from
 * them finds it. Pure: no services — a command is checked by its `--help`, which connects to nothing.
 *
 * - Paths: every repository path in the text — `src/…`, `scripts/…`, `devkit/…`, `deploy/…`, `test/…`,
 *   `examples/…`, `docs/…`, `bin/…` (from the repository root), and top-level files such as `docker-compose.yml`,
 *   `.env.example`, `Dockerfile`, `BENCHMARKS.md` — exists. A path with `<`, `*`, `{` or `…` in it is a
 *   placeholder or a glob and is not checked; `dist/…` is build output and is not checked.
 * - Links: every relative link resolves from its file, and every `#anchor` names a heading of its target.
 * - Commands, in code (fenced blocks and `inline code`): `sendonce …`, `npx sendonce …`, `npm run sendonce -- …`
 *   and `node bin/sendonce.js …`: `node bin/sendonce.js <subcommand path> --help` exits 0 and prints that
 *   command's usage (commander prints the parent's help for a misspelled subcommand, so exit 0 alone proves
 *   little). The subcommand path is the words after `sendonce` up to the first that is not a lower-case command
 *   word (an option, an argument, `#`, `|`, `[`, `<`, `…`); no such word means no command (`sendonce: …`
 *   messages, the run summary `sendonce daily-digest: scheduled run`). `sendonce temporal …` and bare
 *   `temporal …` are the pinned Temporal CLI: `sendonce temporal <path> --help` must print that usage.
 *   `tcld` (Temporal Cloud's CLI, not installed here) is not checked. `npm run <script>`, `npm start`, `npm test`:
 *   the script is in package.json.
 * - Environment variables (UPPER_SNAKE names with at least one `_`, anywhere in the text; `PREFIX_*` must match
 *   one): in the config schema (src/config.ts CONFIG_KEYS, and NAME_FILE for its FILE_VARIABLES), or in
 *   OUTSIDE_SCHEMA below with the reason — and then the name must occur in the repository's code or config
 *   files, so renaming it there fails this test.
 * - Marked blocks: every `<!-- e2e: NAME -->` occurs once, and every name a test reads exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONFIG_KEYS, FILE_VARIABLES } from '../../src/config';
import { temporalCliPath } from '../../src/cli/temporal-cli';
import { ROOT, docFiles, docMarkers, readmeBlock } from '../support/readme';

/**
 * Named by the docs, read by something other than the worker's config schema. Each must occur in the repository's
 * code or config files (not only in the docs).
 */
const OUTSIDE_SCHEMA: Record<string, string> = {
  // Read by @temporalio/envconfig (src/temporal-connection.ts), not by src/config.ts.
  TEMPORAL_ADDRESS: 'Temporal SDK envconfig',
  TEMPORAL_NAMESPACE: 'Temporal SDK envconfig',
  TEMPORAL_API_KEY: 'Temporal SDK envconfig',
  TEMPORAL_PROFILE: 'Temporal SDK envconfig',
  TEMPORAL_CONFIG_FILE: 'Temporal SDK envconfig',
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'Temporal SDK envconfig',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'Temporal SDK envconfig',
  // The CLI and `npm start` (devkit/), not the worker.
  TEMPORAL_CLI: 'src/cli/temporal-cli.ts: which temporal binary `sendonce temporal` runs',
  SENDONCE_STATE_DIR: "npm start's state folder, where the CLI looks for stack.json (src/cli/local-stack.ts)",
  LOG_FORMAT: 'npm start only: pretty or JSON log lines (devkit/start-logger.ts)',
  // A build argument, not a runtime variable: deploy/build.sh, the Dockerfile and docker-compose.yml's build args.
  JOBS_MODULE: 'Docker build argument: the jobs module deploy/build.sh compiles into the image',
  // The test harness, the chaos suite, the soak and the benchmarks (scripts/).
  KEEP_TEST_DB: 'scripts/run-tests.ts: keep every test database',
  CHAOS_ONLY: 'scripts/chaos: run one scenario',
  CHAOS_REPS: 'scripts/chaos: repetitions',
  SOAK_MINUTES: 'scripts/soak: length',
  SOAK_SEED: 'scripts/soak: fault schedule seed',
  SOAK_KEEP_GOING: 'scripts/soak: go on after a violation',
  SOAK_EVIDENCE_DIR: "scripts/soak: where a failed soak's evidence goes",
  BENCH_HUGE: 'scripts/bench: the one-million-recipient tick',
  CODEC_CORS_ORIGIN: 'scripts/codec-server.ts',
  BOOTSTRAP_TEMPORAL_SERVER: 'scripts/bootstrap.sh: build the Temporal server for npm run rehearse',
  // Docker: the image and the compose file, and the images it runs.
  NODE_OPTIONS: "Node's own; the Dockerfile sets the worker's memory flags in it",
  POSTGRES_PASSWORD: 'docker-compose.yml: the postgres image',
  POSTGRES_DB: 'docker-compose.yml: the postgres image',
  GRAFANA_ADMIN_PASSWORD: 'docker-compose.yml: the grafana image',
  TEMPORAL_CODEC_ENDPOINT: "docker-compose.yml: the Temporal UI's codec server",
  NUM_HISTORY_SHARDS: 'docker-compose.yml: the temporalio/server configuration template',
  // Not a variable: Temporal's overlap policy, named where backfill is explained.
  BUFFER_ALL: 'Temporal ScheduleOverlapPolicy (src/api/schedules.ts)',
};

const docs = docFiles().map((file) => ({ file, name: path.relative(ROOT, file), text: fs.readFileSync(file, 'utf8') }));

/**
 * Where commands are written: fenced blocks' lines and inline code spans. Blocks of program code (`ts`, `liquid`)
 * are left out: a `sendonce` there is a word in a comment, not a command.
 */
function codeOf(text: string): string[] {
  const code: string[] = [];
  const prose = text.replace(/^ *```([^\n]*)\n([\s\S]*?)^ *```$/gm, (_all, lang: string, body: string) => {
    if (!['ts', 'liquid'].includes(lang.trim())) code.push(...body.replace(/\\\n\s*/g, ' ').split('\n'));
    return '';
  });
  for (const m of prose.matchAll(/`([^`\n]+(?:\n[^`\n]+)?)`/g)) code.push(m[1]!.replace(/\n/g, ' '));
  return code;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

// --- paths -----------------------------------------------------------------------------------------------

const REPO_PATH = /(?<![\w./~-])(?:src|scripts|devkit|deploy|test|examples|docs|bin)\/[^\s`'"()[\],;|#?]*/g;
const TOP_LEVEL_FILE =
  /(?<![\w./~-])(?:[A-Z][A-Z0-9_-]*\.md|Dockerfile|\.env\.example|docker-compose\.ya?ml|package(?:-lock)?\.json|tsconfig(?:\.[\w-]+)?\.json|eslint\.config\.mjs)(?![\w.-])/g;
const PLACEHOLDER = /[<*{…]/;

test('every repository path the docs name exists', () => {
  const missing: string[] = [];
  for (const { name, text } of docs) {
    for (const pattern of [REPO_PATH, TOP_LEVEL_FILE]) {
      for (const m of text.matchAll(pattern)) {
        const ref = m[0].replace(/[.:]+$/, '');
        if (PLACEHOLDER.test(ref)) continue;
        if (!fs.existsSync(path.join(ROOT, ref))) missing.push(`${name}:${lineOf(text, m.index)}: ${ref}`);
      }
    }
  }
  assert.deepEqual(missing, [], `paths that do not exist:\n  ${missing.join('\n  ')}`);
});

// --- links and anchors -----------------------------------------------------------------------------------

/** GitHub's heading ids: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  const prose = text.replace(/^ *```[^\n]*\n[\s\S]*?^ *```$/gm, '');
  for (const m of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

test('every relative link resolves, and every #anchor names a heading of its target', () => {
  const broken: string[] = [];
  for (const { file, name, text } of docs) {
    const prose = text.replace(/^ *```[^\n]*\n[\s\S]*?^ *```$/gm, (block) => block.replace(/[^\n]/g, ' '));
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
      const [relative, anchor] = target.split('#') as [string, string | undefined];
      const targetFile = relative === '' ? file : path.resolve(path.dirname(file), relative);
      const where = `${name}:${lineOf(text, m.index)}: ${target}`;
      if (!fs.existsSync(targetFile)) broken.push(`${where} (no such file)`);
      else if (anchor !== undefined && !anchors(fs.readFileSync(targetFile, 'utf8')).has(anchor)) broken.push(`${where} (no such heading)`);
    }
  }
  assert.deepEqual(broken, [], `broken links:\n  ${broken.join('\n  ')}`);
});

// --- commands --------------------------------------------------------------------------------------------

const COMMAND_WORD = /^[a-z][a-z0-9-]*$/;
const pathAfter = (rest: string) => {
  const words: string[] = [];
  for (const word of rest.trim().split(/\s+/)) {
    if (!COMMAND_WORD.test(word)) break;
    words.push(word);
  }
  return words;
};

/** Subcommand paths of `sendonce` and of the Temporal CLI the docs' code names, each with where it was first seen. */
function namedCommands() {
  const sendonce = new Map<string, string>();
  const temporal = new Map<string, string>();
  for (const { name, text } of docs) {
    for (const line of codeOf(text)) {
      for (const m of line.matchAll(/(?<![\w./-])(?:bin\/)?sendonce(?:\.js)?(?: +--)? +(.*)/g)) {
        const words = pathAfter(m[1]!);
        if (words.length === 0) continue;
        if (words[0] === 'temporal') {
          if (!temporal.has(words.slice(1).join(' '))) temporal.set(words.slice(1).join(' '), `${name}: ${line.trim()}`);
        } else if (!sendonce.has(words.join(' '))) sendonce.set(words.join(' '), `${name}: ${line.trim()}`);
      }
      for (const m of line.matchAll(/(?<![\w./-]|sendonce(?:\.js)? )temporal +(.*)/g)) {
        const words = pathAfter(m[1]!);
        if (words.length > 0 && !temporal.has(words.join(' '))) temporal.set(words.join(' '), `${name}: ${line.trim()}`);
      }
    }
  }
  return { sendonce, temporal };
}

const run = promisify(execFile);
async function output(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run(file, args, { cwd: ROOT, timeout: 60_000, env });
    return { ok: true, out: stdout };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** `node bin/sendonce.js <args> --help` in a state folder of its own: no `npm start` stack is used, none needed. */
async function sendonceHelp(args: string[]): Promise<{ ok: boolean; out: string }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-docs-'));
  try {
    return await output(process.execPath, ['bin/sendonce.js', ...args, '--help'], { ...process.env, SENDONCE_STATE_DIR: stateDir });
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The usage line of `words`, each word possibly followed by its aliases (`schedule create|update`). */
const usageOf = (prefix: string, words: string[]) =>
  new RegExp(`^${prefix}${words.map((w) => `${escape(w)}(?:\\|[\\w-]+)*`).join(' ')}( |$)`, 'm');
const firstLines = (out: string) => out.trim().split('\n').slice(0, 3).join('\n    ');

test('every sendonce command the docs name answers --help with its own usage', async (t) => {
  const { sendonce } = namedCommands();
  assert.ok(sendonce.size > 0, 'the docs name sendonce commands');
  t.diagnostic(`${sendonce.size} distinct sendonce commands`);
  const failed: string[] = [];
  for (const [command, where] of sendonce) {
    // One at a time, each once: every one is a Node process loading the CLI through tsx (a second or two).
    const words = command.split(' ');
    const r = await sendonceHelp(words);
    if (!r.ok || !usageOf('Usage: ', ['sendonce', ...words]).test(r.out)) failed.push(`sendonce ${command} (${where})\n    ${firstLines(r.out)}`);
  }
  assert.deepEqual(failed, [], `commands without help of their own:\n  ${failed.join('\n  ')}`);
});

test('every Temporal CLI command the docs name answers --help with its own usage', async (t) => {
  let cli: string;
  try {
    cli = temporalCliPath();
  } catch {
    t.skip('the pinned Temporal CLI is not built (bash scripts/bootstrap.sh)');
    return;
  }
  // `sendonce temporal …` hands its arguments to that CLI unchanged: checked once, then each path on the CLI itself.
  const through = await sendonceHelp(['temporal']);
  assert.ok(through.ok && usageOf('Usage:\\s+', ['temporal']).test(through.out), `sendonce temporal --help: ${firstLines(through.out)}`);
  const { temporal } = namedCommands();
  t.diagnostic(`${temporal.size} distinct Temporal CLI commands`);
  const failed: string[] = [];
  for (const [command, where] of temporal) {
    const words = command ? command.split(' ') : [];
    const r = await output(cli, [...words, '--help']);
    if (!r.ok || !usageOf('Usage:\\s+', ['temporal', ...words]).test(r.out)) failed.push(`temporal ${command} (${where})\n    ${firstLines(r.out)}`);
  }
  assert.deepEqual(failed, [], `Temporal CLI commands without help of their own:\n  ${failed.join('\n  ')}`);
});

test('every npm script the docs name is in package.json', () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const missing: string[] = [];
  for (const { name, text } of docs) {
    for (const m of text.matchAll(/\bnpm (?:run (?:--silent )?([\w:.-]+)|(start|test)\b)/g)) {
      const script = m[1] ?? m[2]!;
      if (!(script in scripts)) missing.push(`${name}:${lineOf(text, m.index)}: npm ${m[1] ? 'run ' : ''}${script}`);
    }
  }
  assert.deepEqual(missing, [], `npm scripts that package.json does not have:\n  ${missing.join('\n  ')}`);
});

// --- environment variables -------------------------------------------------------------------------------

const VARIABLE = /(?<![\w$.{/-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w-])/g;
const VARIABLE_PREFIX = /(?<![\w$.{/-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_\*/g;

/** The repository's code and config files, where an allowlisted name must occur (the docs do not count). */
function codeAndConfig(): string {
  const files: string[] = ['Dockerfile', 'docker-compose.yml', '.env.example', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
  for (const dir of ['src', 'devkit', 'scripts', 'test', 'deploy', 'bin', 'examples', '.ci']) {
    if (!fs.existsSync(path.join(ROOT, dir))) continue;
    for (const f of fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      const rel = path.join(dir, f);
      // Not the docs, not this list, not recorded histories (data, megabytes of it).
      if (rel.endsWith('.md') || rel === path.relative(ROOT, __filename) || rel.startsWith('test/replay/histories/')) continue;
      if (fs.statSync(path.join(ROOT, rel)).isFile()) files.push(rel);
    }
  }
  return files.map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
}

test('every environment variable the docs name is in the config schema or read by a named tool', () => {
  const schema = new Set([...CONFIG_KEYS, ...FILE_VARIABLES.map((name) => `${name}_FILE`)]);
  const known = new Set([...schema, ...Object.keys(OUTSIDE_SCHEMA)]);
  const unknown: string[] = [];
  const named = new Set<string>();
  for (const { name, text } of docs) {
    for (const m of text.matchAll(VARIABLE)) {
      named.add(m[0]);
      if (!known.has(m[0])) unknown.push(`${name}:${lineOf(text, m.index)}: ${m[0]}`);
    }
    for (const m of text.matchAll(VARIABLE_PREFIX)) {
      const prefix = m[0].slice(0, -1);
      if (![...known].some((k) => k.startsWith(prefix))) unknown.push(`${name}:${lineOf(text, m.index)}: ${m[0]} (matches nothing)`);
    }
  }
  assert.deepEqual(unknown, [], `variables neither in src/config.ts nor in OUTSIDE_SCHEMA:\n  ${unknown.join('\n  ')}`);

  const code = codeAndConfig();
  const unread = Object.keys(OUTSIDE_SCHEMA).filter((v) => !new RegExp(`(?<![\\w])${v}(?![\\w])`).test(code));
  assert.deepEqual(unread, [], 'OUTSIDE_SCHEMA names that no code or config file of the repository mentions (renamed?)');
  const unused = Object.keys(OUTSIDE_SCHEMA).filter((v) => !named.has(v));
  assert.deepEqual(unused, [], 'OUTSIDE_SCHEMA names the docs no longer mention: drop them from the list');
});

// --- marked blocks ---------------------------------------------------------------------------------------

test('every <!-- e2e: NAME --> marker occurs once, and every marker a test reads exists', () => {
  const twice = [...docMarkers()].filter(([, files]) => files.length > 1).map(([marker, files]) => `${marker}: ${files.join(', ')}`);
  assert.deepEqual(twice, [], `markers that occur more than once:\n  ${twice.join('\n  ')}`);
  const testDir = path.join(ROOT, 'test');
  const used = new Set<string>();
  for (const f of fs.readdirSync(testDir, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts')) continue;
    for (const m of fs.readFileSync(path.join(testDir, f), 'utf8').matchAll(/readme(?:Block|Commands)\('([^']+)'\)/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 0, 'tests read marked blocks');
  for (const marker of used) assert.ok(readmeBlock(marker).some((line) => line.trim() !== ''), `${marker}: a block with something in it`);
});

test('the README stays the front door: the two commands at the top, at most 300 lines', () => {
  const readme = docs[0]!.text;
  const firstBlock = /```[^\n]*\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';
  assert.match(firstBlock, /^npm start\b/m, 'the first code block of README.md starts the stack');
  assert.match(firstBlock, /^npm test\b/m, 'and runs the tests');
  const lines = readme.split('\n').length - 1;
  assert.ok(lines <= 300, `README.md has ${lines} lines; the rest belongs in docs/`);
});
