/**
 * docker-compose.yml and the Dockerfile as the rehearsal reads them: what each service runs (command, entrypoint,
 * environment, health check, restart policy, mounts, published ports) and what the runtime image adds (ENV, CMD,
 * base image tag). Parsed with `yaml` (already a dev dependency, used by test/unit/deploy-files.ts; it resolves
 * the `<<` merge keys the file uses), interpolated as compose does with nothing set in the environment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  profiles?: string[];
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test: string[] | string; interval?: string; start_period?: string };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  restart?: string;
  init?: boolean;
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}

export interface Compose {
  services: Record<string, ComposeService>;
}

/** `${NAME:-default}` / `${NAME}` as compose resolves them when NAME is unset (the rehearsal sets none). */
export function interpolate(text: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
}

export function loadCompose(file = path.join(ROOT, 'docker-compose.yml')): Compose {
  return parse(interpolate(fs.readFileSync(file, 'utf8')), { merge: true }) as Compose;
}

export function service(compose: Compose, name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service '${name}': the rehearsal follows the compose file, which changed`);
  return s;
}

/** A service's environment as strings (compose passes every value as a string). */
export function environmentOf(s: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `./deploy/temporal:/sendonce:ro` → { host: <repo>/deploy/temporal, container: /sendonce }, bind mounts only. */
export function bindMounts(s: ComposeService): Array<{ host: string; container: string }> {
  return (s.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [host, container] = v.split(':');
      return { host: path.join(ROOT, host!), container: container! };
    });
}

/** A path inside the container → the file on this machine it is mounted from, or undefined. */
export function hostPathOf(s: ComposeService, containerPath: string): string | undefined {
  for (const m of bindMounts(s)) {
    if (containerPath === m.container) return m.host;
    if (containerPath.startsWith(m.container + '/')) return path.join(m.host, containerPath.slice(m.container.length + 1));
  }
  return undefined;
}

/** `127.0.0.1:9464-9473:9464` → the container port (9464). */
export function containerPorts(s: ComposeService): number[] {
  return (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));
}

export const asList = (v: string[] | string | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : ['/bin/sh', '-c', v]);

/** The runtime stage of the Dockerfile: its base tag, ENV and CMD, for given build arguments. */
export interface ImageRuntime {
  nodeTag: string;
  env: Record<string, string>;
  cmd: string[];
  workdir: string;
  /** The build arguments it was read with (ARG defaults, then `buildArgs`): the build stage gets the same. */
  buildArgs: Record<string, string>;
  /** Its USER as uid/gid; undefined = root. */
  user?: { uid: number; gid: number };
}

/** Users of the base images the Dockerfile may name (the official node images' `node` is 1000:1000). */
const BASE_IMAGE_USERS: Record<string, { uid: number; gid: number }> = { node: { uid: 1000, gid: 1000 }, root: { uid: 0, gid: 0 } };

function userOf(spec: string | undefined): { uid: number; gid: number } | undefined {
  if (!spec) return undefined;
  const [name, group] = spec.split(':') as [string, string | undefined];
  const known = /^\d+$/.test(name) ? { uid: Number(name), gid: Number(group ?? name) } : BASE_IMAGE_USERS[name];
  if (!known) throw new Error(`the Dockerfile's USER ${spec} is not a user the rehearsal knows (numeric, or one of ${Object.keys(BASE_IMAGE_USERS).join(', ')})`);
  return known;
}

/** Docker's substitution in ENV: $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}. */
function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-+])([^}]*))?\}|\$(\w+)/g, (_m, name: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    const v = vars[(name ?? bare)!] ?? '';
    if (op === '-') return v || word!;
    if (op === '+') return v ? word! : '';
    return v;
  });
}

export function loadImageRuntime(buildArgs: Record<string, string> = {}, file = path.join(ROOT, 'Dockerfile')): ImageRuntime {
  const text = fs.readFileSync(file, 'utf8').replace(/\\\n\s*/g, ' ');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;
  const nodeTag = /^node:([\w.-]+)/.exec(runtime)?.[1];
  if (!nodeTag) throw new Error('the Dockerfile runtime stage is not FROM node:<tag>: the rehearsal cannot pick the Node version');
  const args: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n')) {
    const arg = /^ARG\s+(\w+)(?:=("([^"]*)"|\S*))?\s*$/.exec(line.trim());
    if (arg) args[arg[1]!] = buildArgs[arg[1]!] ?? arg[3] ?? arg[2] ?? '';
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const pair of m[1]!.matchAll(/([A-Z_][A-Z0-9_]*)=("([^"]*)"|\S+)/g)) env[pair[1]!] = substitute(pair[3] ?? pair[2]!, { ...args, ...env });
  }
  for (const name of Object.keys(buildArgs)) {
    if (!(name in args)) throw new Error(`the Dockerfile runtime stage has no ARG ${name}: the build argument would be ignored`);
  }
  const cmdLine = /^CMD\s+(\[.*\])\s*$/m.exec(runtime)?.[1];
  if (!cmdLine) throw new Error('the Dockerfile has no exec-form CMD');
  const workdir = /^WORKDIR\s+(\S+)/m.exec(runtime)?.[1] ?? '/';
  const user = userOf([...runtime.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1]);
  return { nodeTag, env, cmd: JSON.parse(cmdLine) as string[], workdir, buildArgs: args, ...(user ? { user } : {}) };
}

/** Compose durations (`45s`, `2m`, `1m30s`) in milliseconds. */
export function durationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms']!;
  return ms;
}
