/**
 * Issue 25, point 3 ("digest pins, or a script that pins them"): `npm run pin-images` against a real registry
 * (CNCF Distribution, devkit/services/image-registry.ts) holding every image the compose file and the Dockerfile
 * name, pushed through the registry API: every reference gets the digest the registry computed for its tag, `--check`
 * fails before and passes after, a second run changes nothing, and the rehearsal still reads the pinned files.
 * (Docker Hub itself is out of reach here: its token flow is the only part not run.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startImageRegistry } from '../../devkit/services/image-registry';
import { testTmpDir } from '../../devkit/shared-services';
import { findImages, parseImage } from '../../scripts/pin-images';
import { loadCompose, loadImageRuntime } from '../../scripts/rehearse/compose';

const ROOT = path.resolve(__dirname, '../..');

function pinImages(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/pin-images.ts'), ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr })));
}

const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/** `docker push` of a minimal image: a config blob, then an OCI manifest under the tag. Returns the manifest digest. */
async function push(registry: string, repository: string, tag: string, build = '1'): Promise<string> {
  const configBlob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { tag, build } } }));
  const start = await fetch(`${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, await start.text());
  const location = new URL(start.headers.get('location')!, registry);
  location.searchParams.set('digest', sha256(configBlob));
  const put = await fetch(location, { method: 'PUT', body: configBlob, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configBlob), size: configBlob.length },
    layers: [],
  });
  const res = await fetch(`${registry}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 201, await res.text());
  return res.headers.get('docker-content-digest')!;
}

test('pin-images pins every pulled image to its digest on a real registry, and --check tells pinned from not', async (t) => {
  const dir = fs.mkdtempSync(path.join(testTmpDir(), 'pin-'));
  const registry = await startImageRegistry(path.join(dir, 'registry'));
  t.after(() => registry.stop());
  for (const f of ['docker-compose.yml', 'Dockerfile']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

  const images = findImages(read('docker-compose.yml'), read('Dockerfile'));
  assert.ok(images.includes('postgres:18.4-bookworm') && images.includes('node:24.21-bookworm-slim'), images.join(', '));
  assert.ok(!images.some((i) => i.startsWith('sendonce-worker')), 'the images compose builds itself are not pulled');
  const digests = new Map<string, string>();
  for (const image of images) {
    const ref = parseImage(image);
    digests.set(image, await push(registry.url, ref.repository, ref.tag));
  }

  const before = await pinImages(['--check', '--dir', dir]);
  assert.equal(before.code, 1, before.out);
  assert.match(before.out, /not pinned: postgres:18\.4-bookworm/);

  const pinned = await pinImages(['--dir', dir, '--registry', registry.url]);
  assert.equal(pinned.code, 0, pinned.out);
  const compose = read('docker-compose.yml');
  const dockerfile = read('Dockerfile');
  for (const [image, digest] of digests) {
    assert.ok((compose + dockerfile).includes(`${image}@${digest}`), `${image} pinned to ${digest}`);
  }
  assert.equal(dockerfile.match(/^FROM node:24\.21-bookworm-slim@sha256:[0-9a-f]{64}/gm)?.length, 2, 'both stages pinned');
  assert.match(compose, /image: sendonce-worker:local\n/, 'the built image is left alone');

  const check = await pinImages(['--check', '--dir', dir]);
  assert.equal(check.code, 0, check.out);
  const again = await pinImages(['--dir', dir, '--registry', registry.url]);
  assert.match(again.out, /0 image reference\(s\) rewritten/);
  assert.equal(read('docker-compose.yml'), compose);

  // The tag moves on the registry (a rebuilt image pushed under it): the pin holds until someone pins again.
  const moved = await push(registry.url, 'library/redis', '8.2.10-bookworm', '2');
  assert.notEqual(moved, digests.get('redis:8.2.10-bookworm'));
  assert.equal(read('docker-compose.yml'), compose, 'nothing changes by itself');
  const repinned = await pinImages(['--dir', dir, '--registry', registry.url]);
  assert.match(repinned.out, /1 image reference\(s\) rewritten/);
  assert.ok(read('docker-compose.yml').includes(`redis:8.2.10-bookworm@${moved}`));

  // What reads these files (the rehearsal) still reads the pinned ones.
  assert.equal(loadImageRuntime({}, path.join(dir, 'Dockerfile')).nodeTag, '24.21-bookworm-slim');
  assert.match(loadCompose(path.join(dir, 'docker-compose.yml')).services.postgres!.image!, /^postgres:18\.4-bookworm@sha256:/);
});

test('an unknown tag is a clear error naming the image, and nothing is rewritten', async (t) => {
  const dir = fs.mkdtempSync(path.join(testTmpDir(), 'pin-missing-'));
  const registry = await startImageRegistry(path.join(dir, 'registry'));
  t.after(() => registry.stop());
  for (const f of ['docker-compose.yml', 'Dockerfile']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  const r = await pinImages(['--dir', dir, '--registry', registry.url]);
  assert.equal(r.code, 1);
  assert.match(r.out, /^pin-images: postgres:18\.4-bookworm: the registry has no tag '18\.4-bookworm' for library\/postgres\n$/m);
  assert.equal(fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8'), fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
});
