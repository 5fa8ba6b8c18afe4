/**
 * A real OCI image registry on 127.0.0.1 for the tests of scripts/pin-images.ts: CNCF Distribution's `registry`
 * (the server behind Docker Hub and most private registries), built once with `go install` into the per-user cache
 * like the Temporal tools. Storage in a folder of the caller's; no auth (the script's token flow is Docker Hub's).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports';
import { stopChild } from './processes';
import { toolCacheDir } from './tool-paths';

export const REGISTRY_VERSION = 'v3.1.2';

/** The `registry` binary of CNCF Distribution at REGISTRY_VERSION; built on first use (a few minutes, Go needed). */
export function registryBinary(): string {
  const dir = path.join(toolCacheDir(), `distribution-registry-${REGISTRY_VERSION}`);
  const bin = path.join(dir, 'registry');
  if (fs.existsSync(bin)) return bin;
  const partial = `${dir}.tmp-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const r = spawnSync('go', ['install', `github.com/distribution/distribution/v3/cmd/registry@${REGISTRY_VERSION}`], {
    env: { ...process.env, GOBIN: partial },
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  if (r.error || r.status !== 0) throw new Error(`go install of the Distribution registry ${REGISTRY_VERSION} failed: ${r.error?.message ?? r.stderr.slice(-1500)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return bin;
}

export interface RegistryHandle {
  url: string;
  stop(): Promise<void>;
}

export async function startImageRegistry(storageDir: string): Promise<RegistryHandle> {
  const port = await freePort();
  const config = path.join(storageDir, 'config.yml');
  fs.mkdirSync(path.join(storageDir, 'data'), { recursive: true });
  fs.writeFileSync(config, [
    'version: 0.1',
    'log: { level: error }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(storageDir, 'data'))} } }`,
    `http: { addr: "127.0.0.1:${port}" }`,
    '',
  ].join('\n'));
  const child = spawn(registryBinary(), ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`registry exited ${code}: ${stderr.slice(-800)}`))));
  try {
    await Promise.race([waitForPort(port, 'registry'), exited]);
  } catch (err) {
    await stopChild(child, 2_000);
    throw err;
  } finally {
    exited.catch(() => undefined);
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}
