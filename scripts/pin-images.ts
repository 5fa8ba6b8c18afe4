/**
 * `npm run pin-images`: pin every image docker-compose.yml and the Dockerfile pull to the digest its tag names
 * today — `postgres:18.4-bookworm` becomes `postgres:18.4-bookworm@sha256:…` — so a rebuild or a fresh host runs
 * exactly the images that were tested, and a tag moved on the registry (a re-pushed `18.4`) changes nothing until
 * someone pins again. The tag stays for people to read; Docker uses the digest. Images the compose file builds
 * itself (`sendonce-worker:*`) are left alone.
 *
 *   npm run pin-images                 resolve and rewrite both files (needs the registries: Docker Hub here)
 *   npm run pin-images -- --check      exit 1 naming every image without a digest (for a release pipeline)
 *   npm run pin-images -- --registry http://127.0.0.1:5000   resolve every image on that registry instead (a mirror)
 *
 * Resolving is the registry API's `HEAD /v2/<name>/manifests/<tag>`, whose `Docker-Content-Digest` is the digest of
 * the multi-platform index when the tag has one (what `docker pull name:tag` resolves too), with the anonymous
 * Bearer token the registry's 401 challenge names. Re-running after a pin re-resolves the tags: that is how you
 * take a patch release on purpose. test/integration/pin-images.test.ts runs it against a real registry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '..');

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface ImageRef {
  /** As written, e.g. `prom/prometheus:v3.13.2` or `node:24.21-bookworm-slim@sha256:…`. */
  text: string;
  registry: string;
  /** Repository path on that registry, e.g. `library/postgres`. */
  repository: string;
  tag: string;
  digest?: string;
}

/** Docker's reference rules: a first part with a dot or a colon (or `localhost`) is a registry, else Docker Hub. */
export function parseImage(text: string): ImageRef {
  const [nameTag, digest] = text.split('@') as [string, string | undefined];
  const slash = nameTag.indexOf('/');
  const first = slash === -1 ? '' : nameTag.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const rest = hasRegistry ? nameTag.slice(slash + 1) : nameTag;
  const colon = rest.lastIndexOf(':');
  const name = colon === -1 ? rest : rest.slice(0, colon);
  const tag = colon === -1 ? 'latest' : rest.slice(colon + 1);
  const registry = hasRegistry ? first : 'registry-1.docker.io';
  const repository = !hasRegistry && !name.includes('/') ? `library/${name}` : name;
  return { text, registry, repository, tag, ...(digest ? { digest } : {}) };
}

/** Every pulled image reference in the two files: compose services' `image:` and Dockerfile `FROM` lines. */
export function findImages(composeText: string, dockerfileText: string): string[] {
  const services = Object.values((parse(composeText) as { services: Record<string, { image?: string; build?: unknown }> }).services);
  // Images compose builds itself: a service with `build:` names it with `image:`; other services reuse that name.
  const built = new Set(services.filter((svc) => svc.build && svc.image).map((svc) => parseImage(svc.image!).repository));
  const fromCompose = services.map((svc) => svc.image).filter((i): i is string => !!i && !built.has(parseImage(i).repository));
  const fromDockerfile = [...dockerfileText.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)/gm)].map((m) => m[1]!);
  return [...new Set([...fromCompose, ...fromDockerfile])];
}

interface Challenge { realm: string; service?: string; scope?: string }
function parseChallenge(header: string | null): Challenge | undefined {
  if (!header?.startsWith('Bearer ')) return undefined;
  const params = Object.fromEntries([...header.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return params.realm ? { realm: params.realm, ...(params.service ? { service: params.service } : {}), ...(params.scope ? { scope: params.scope } : {}) } : undefined;
}

/** The digest the registry serves for `ref`'s tag. `base` replaces the registry (a mirror, or a test registry). */
export async function resolveDigest(ref: ImageRef, base?: string): Promise<string> {
  const url = `${base ?? `https://${ref.registry}`}/v2/${ref.repository}/manifests/${encodeURIComponent(ref.tag)}`;
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES.join(', ') };
  let res = await fetch(url, { method: 'HEAD', headers });
  const challenge = res.status === 401 ? parseChallenge(res.headers.get('www-authenticate')) : undefined;
  if (challenge) {
    const q = new URLSearchParams({ ...(challenge.service ? { service: challenge.service } : {}), scope: challenge.scope ?? `repository:${ref.repository}:pull` });
    const tokenRes = await fetch(`${challenge.realm}?${q}`);
    if (!tokenRes.ok) throw new Error(`${ref.text}: the registry's token service answered ${tokenRes.status}`);
    const body = (await tokenRes.json()) as { token?: string; access_token?: string };
    res = await fetch(url, { method: 'HEAD', headers: { ...headers, Authorization: `Bearer ${body.token ?? body.access_token}` } });
  }
  if (res.status === 404) throw new Error(`${ref.text}: the registry has no tag '${ref.tag}' for ${ref.repository}`);
  if (!res.ok) throw new Error(`${ref.text}: HEAD ${url} answered ${res.status}`);
  const digest = res.headers.get('docker-content-digest');
  if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`${ref.text}: the registry sent no Docker-Content-Digest`);
  return digest;
}

/** `text` with every occurrence of each image (as a whole word) replaced by its pinned form. */
export function rewrite(text: string, pinned: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [from, to] of pinned) out = out.replace(new RegExp(`(?<=[\\s"'])${from.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?=[\\s"']|$)`, 'gm'), to);
  return out;
}

async function main(): Promise<number> {
  const opts = new Command('pin-images')
    .description('pin the images of docker-compose.yml and the Dockerfile to their digests')
    .option('--check', 'only check: exit 1 when an image has no digest')
    .option('--registry <url>', 'resolve every image on this registry (e.g. a pull-through mirror)')
    .option('--dir <dir>', 'the folder holding docker-compose.yml and Dockerfile', ROOT)
    .parse()
    .opts<{ check?: boolean; registry?: string; dir: string }>();
  const files = ['docker-compose.yml', 'Dockerfile'].map((f) => path.join(opts.dir, f));
  const [compose, dockerfile] = files.map((f) => fs.readFileSync(f, 'utf8')) as [string, string];
  const images = findImages(compose, dockerfile).map(parseImage);
  if (opts.check) {
    const loose = images.filter((i) => !i.digest);
    for (const i of loose) console.error(`not pinned: ${i.text}`);
    console.log(`${images.length - loose.length} of ${images.length} images pinned to a digest`);
    return loose.length ? 1 : 0;
  }
  const pinned = new Map<string, string>();
  for (const ref of images) {
    const nameTag = ref.text.split('@')[0]!;
    const digest = await resolveDigest(ref, opts.registry);
    if (digest !== ref.digest) pinned.set(ref.text, `${nameTag}@${digest}`);
    console.log(`${nameTag}  ${digest}${digest === ref.digest ? '  (unchanged)' : ''}`);
  }
  for (const [file, text] of [[files[0]!, compose], [files[1]!, dockerfile]] as const) {
    const next = rewrite(text, pinned);
    if (next !== text) fs.writeFileSync(file, next);
  }
  console.log(`${pinned.size} image reference(s) rewritten`);
  return 0;
}

if (require.main === module) {
  main().then((code) => (process.exitCode = code), (err: Error) => {
    console.error(`pin-images: ${err.message}`);
    process.exitCode = 1;
  });
}
