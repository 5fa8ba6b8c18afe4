/**
 * How `sendonce` finds the local stack by itself: `npm start` (devkit/start.ts) writes what it started to
 * `.sendonce/stack.json` — the variables a worker would be given, its own pid — and removes it when it stops.
 * The CLI fills those variables in when the environment names no deployment of its own (none of DATABASE_URL,
 * REDIS_URL, TEMPORAL_ADDRESS, TEMPORAL_PROFILE or their _FILE forms is set), so every command in the README and
 * docs/ works copy-pasted in a second terminal. A file whose `npm start` is gone is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface LocalStack {
  /** The `npm start` process that wrote the file. */
  pid: number;
  startedAt: string;
  /** What a worker on this stack is given: DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS, TASK_QUEUE, … */
  env: Record<string, string>;
  /** Where to look: the Temporal Web UI and the mail inbox, when npm start runs them. */
  urls: Record<string, string>;
}

const DEPLOYMENT_VARIABLES = ['DATABASE_URL', 'DATABASE_URL_FILE', 'REDIS_URL', 'REDIS_URL_FILE', 'TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE'];

/** The project folder: the nearest one upwards from this file with the sendonce package.json (src/ or dist/src/). */
function projectRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sendonce') return dir;
  }
  return process.cwd();
}

/** `.sendonce/` of this clone, or SENDONCE_STATE_DIR. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SENDONCE_STATE_DIR ? path.resolve(env.SENDONCE_STATE_DIR) : path.join(projectRoot(), '.sendonce');
}

export const stackFile = (env: NodeJS.ProcessEnv = process.env) => path.join(stateDir(env), 'stack.json');

/** Written by npm start once everything is up (mode 0600: it holds the local database's password). */
export function writeLocalStack(stack: LocalStack, env: NodeJS.ProcessEnv = process.env): string {
  const file = stackFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export function removeLocalStack(env: NodeJS.ProcessEnv = process.env): void {
  fs.rmSync(stackFile(env), { force: true });
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The running local stack, if `npm start` runs in this clone. */
export function readLocalStack(env: NodeJS.ProcessEnv = process.env): LocalStack | undefined {
  let stack: LocalStack;
  try {
    stack = JSON.parse(fs.readFileSync(stackFile(env), 'utf8')) as LocalStack;
  } catch {
    return undefined;
  }
  return Number.isInteger(stack.pid) && isAlive(stack.pid) ? stack : undefined;
}

/**
 * Fill in the local stack's variables (in `env`, in place) unless the environment names a deployment of its own.
 * Returns the stack used, if any.
 */
export function useLocalStack(env: NodeJS.ProcessEnv = process.env): LocalStack | undefined {
  if (DEPLOYMENT_VARIABLES.some((name) => env[name])) return undefined;
  const stack = readLocalStack(env);
  if (!stack) return undefined;
  for (const [name, value] of Object.entries(stack.env)) if (!env[name]) env[name] = value;
  return stack;
}

/** Said after "DATABASE_URL (not set)" and "cannot reach Temporal" when no stack was found. */
export const LOCAL_STACK_HINT = 'set it, or start the local stack with `npm start` in this clone (sendonce then finds it in .sendonce/stack.json)';
