/**
 * The deployment files as data, for the static tests (compose, image, monitoring): docker-compose.yml parsed
 * with its merge keys, the Dockerfile's text, package.json and package-lock.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');
export const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

export interface Service {
  image?: string;
  profiles?: string[];
  build?: string | { context?: string; dockerfile?: string };
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; interval?: string };
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
  stop_grace_period?: string;
  restart?: string;
  init?: boolean;
}
export const composeText = read('docker-compose.yml');
export const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
export const dockerfile = read('Dockerfile');

export interface PackageJson {
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
export const packageJson = JSON.parse(read('package.json')) as PackageJson;

/** `${NAME:-default}` → default (what compose does with NAME unset). */
export const interpolate = (value: string) => String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

/** Variables read through @temporalio/envconfig (envconfig-toml.ts applyProfileEnvVars) rather than loadConfig. */
export const TEMPORAL_ENV = /^TEMPORAL_(ADDRESS|NAMESPACE|API_KEY|TLS|TLS_[A-Z_]+|PROFILE|CONFIG_FILE|CODEC_ENDPOINT|CODEC_AUTH|GRPC_META_[A-Z0-9_]+)$/;
