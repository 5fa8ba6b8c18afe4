/**
 * The one place that reads the environment. Validated with zod at start-up: every problem is collected into
 * one ConfigError that names each variable, so a bad deployment stops with one clear message instead of
 * failing at 3 a.m. on the first send. Every variable is documented in .env.example and docs/configuration.md.
 * (zod: well kept, typed output, precise issue paths — cheaper than hand-written parsing and checks.)
 */
import fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`);

function publicUnsubscribeUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  SMTP_PORT: int(1, 65535).default(1025),
  /** Implicit TLS (port 465). STARTTLS is negotiated automatically when the server offers it. */
  SMTP_SECURE: bool.default(false),
  /** Refuse to send unless the server upgrades the connection with STARTTLS (when SMTP_SECURE is false). */
  SMTP_REQUIRE_TLS: bool.default(false),
  /** Verify the SMTP server's certificate (default). false only for a server with a self-signed certificate. */
  SMTP_TLS_REJECT_UNAUTHORIZED: bool.default(true),
  /** PEM file with the CA that signed the SMTP server's certificate (private CA). */
  SMTP_TLS_CA_FILE: z.string().optional(),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_MAX_CONNECTIONS: int(1, 100).default(5),
  /** Send chunks one worker process works on at once; the rest wait on the server for any worker with room. */
  CHUNKS_PER_WORKER: int(1, 50).default(2),
  /** Must stay below SEND_ATTEMPT_TIMEOUT_MS so a hung server ends the attempt before Temporal does. */
  SMTP_SOCKET_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  MAIL_FROM: z.string().min(3).default('sendonce <noreply@sendonce.local>'),
  MESSAGE_ID_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a bare domain name').default('sendonce.local'),
  TASK_QUEUE: z.string().min(1).default('sendonce'),
  /** A module of yours exporting `jobs` (and optionally `templates`); unset = the built-in demo job. */
  SENDONCE_JOBS_MODULE: z.string().optional(),
  LOCK_BACKEND: z.enum(['redis', 'postgres']).default('redis'),
  /** Greater than the gap between renewals (a third of it); renewed while the run works. */
  // At least 3 s: the run renews every TTL/3 on Temporal timers, which fire no sooner than ~1 s on a dev
  // server; a 1 s TTL would expire before its first renewal (measured in test/integration/no-overlap.test.ts).
  LOCK_TTL_MS: int(3000, 24 * 3600_000).default(60_000),
  /** Prefix for the Redis lock keys (`{prefix}job:{name}:lock`), to share one Redis between deployments. */
  LOCK_KEY_PREFIX: z.string().default(''),
  /** What a tick does when the lock store cannot be reached: skip (fail closed, default) or fail the run. */
  LOCK_UNAVAILABLE: z.enum(['skip', 'fail']).default('skip'),
  SEND_ATTEMPT_TIMEOUT_MS: int(2000, 3600_000).default(60_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Email addresses appear in logs only when this is true AND the level is debug. */
  LOG_RECIPIENT_ADDRESSES: bool.default(false),
  /** Prometheus endpoint (Temporal runtime + sendonce metrics) at http://0.0.0.0:PORT/metrics; unset = off. */
  METRICS_PORT: int(1, 65535).optional(),
  /** /healthz (process up) and /readyz (worker RUNNING and Postgres answers) on this port; unset = off. */
  HEALTH_PORT: int(1, 65535).optional(),
  /** Retention: the prune schedule deletes finished sends, dead letters and runs older than this (e.g. 90d); unset = keep all. */
  PRUNE_OLDER_THAN: z.string().regex(/^\d+(ms|s|m|h|d)$/, "must be a duration such as '90d' or '720h'").optional(),
  /** How often the prune schedule runs. */
  PRUNE_EVERY: z.string().regex(/^\d+(s|m|h|d)$/, "must be a duration such as '1h'").default('1h'),
  /** How often each worker closes the rows of runs that ended unrecorded (terminated, timed out); 0 = only at run start. */
  REAPER_INTERVAL_MS: int(0, 3600_000).default(10_000),
  /**
   * How often each worker's window keeper starts the follow-up runs of windows a run left incomplete, and expires
   * the windows whose deadline passed (src/windows/keeper.ts); 0 = off (windows then finish only by their ticks).
   */
  WINDOW_KEEPER_INTERVAL_MS: int(0, 3600_000).default(15_000),
  /** Delay before a window's first follow-up run; each next one waits twice as long, up to the maximum below. */
  WINDOW_FOLLOW_UP_DELAY_MS: int(0, 24 * 3600_000).default(30_000),
  WINDOW_FOLLOW_UP_MAX_DELAY_MS: int(0, 24 * 3600_000).default(600_000),
  /** Follow-up runs per window at most; then it waits for a person (sendonce windows finish) or its deadline. */
  WINDOW_FOLLOW_UPS: int(0, 1000).default(8),
  /** SIGTERM: how long in-flight activities (sends) may take to finish before they are cancelled. */
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(30_000),
  /** Join a Temporal Worker Deployment (src/worker-versioning/options.ts): runs stay on the version that started them. */
  WORKER_VERSIONING: bool.default(true),
  /** The deployment every worker of this system joins (no dots). */
  DEPLOYMENT_NAME: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only').default('sendonce'),
  /** This worker's version; unset = a hash of the workflow bundle, so it changes exactly when the workflow code does. */
  BUILD_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, -, _ and . only').optional(),
  /** On start: make this version current if the deployment has none (if-none), always, or never (operators promote). */
  DEPLOY_PROMOTE: z.enum(['if-none', 'always', 'never']).default('if-none'),
  /** How often each versioned worker checks that the deployment's current version has pollers (metric + alert); 0 = off. */
  DEPLOY_WATCH_INTERVAL_MS: int(0, 3600_000).default(30_000),
  /** Prebuilt workflow bundle (scripts/bundle-workflows.ts); unset = bundle src/workflows at start-up. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /**
   * One-click unsubscribe (RFC 8058; src/suppressions/): the public https URL of the endpoint (UNSUBSCRIBE_PORT's
   * POST /unsubscribe behind your proxy). Set, every recurring email carries List-Unsubscribe and
   * List-Unsubscribe-Post. http:// only for loopback hosts (tests, npm start).
   */
  UNSUBSCRIBE_URL: z.string().refine(publicUnsubscribeUrl, 'must be an https:// URL (http:// only for 127.0.0.1 or localhost)').optional(),
  /** Also offer opt-out by mail to this address (subject `unsubscribe <token>`) — only if something processes it. */
  UNSUBSCRIBE_MAILTO: z.string().regex(/^[^\s@<>,;:"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$/, 'must be a plain email address').optional(),
  /** Signs unsubscribe tokens (HMAC-SHA256); at least 32 characters (openssl rand -base64 32). */
  UNSUBSCRIBE_SECRET: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional(),
  /** Comma-separated earlier secrets: links signed with them keep working until they expire (rotation). */
  UNSUBSCRIBE_PREVIOUS_SECRETS: z.string().optional(),
  /** Serve POST /unsubscribe on this port (its own, so it can be public while health and metrics are not); unset = off. */
  UNSUBSCRIBE_PORT: int(1, 65535).optional(),
  /** How long an unsubscribe link works after its email was sent. */
  UNSUBSCRIBE_TOKEN_TTL_DAYS: int(1, 3650).default(60),
  /** 32 random bytes, base64: encrypt every Temporal payload (AES-256-GCM, src/codec.ts). Unset = plain. */
  PAYLOAD_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64 (openssl rand -base64 32)')
    .optional(),
});

export type Config = z.infer<typeof schema>;

/** Every variable loadConfig reads (the compose test checks the worker's environment against this). */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);
/** Variables without a default that must be set (REDIS_URL additionally when LOCK_BACKEND=redis). */
export const REQUIRED_CONFIG_KEYS: readonly string[] = CONFIG_KEYS.filter(
  (key) => !schema.shape[key as keyof typeof schema.shape].safeParse(undefined).success,
);

/**
 * Validate only the variables a tool needs (the CLI's `runs` needs DATABASE_URL, `schedule.ts` needs
 * TASK_QUEUE), with the same rules, file variables and error format as loadConfig.
 */
export function loadPartialConfig<K extends keyof Config>(keys: readonly K[], env: NodeJS.ProcessEnv = process.env): Pick<Config, K> {
  const mask = Object.fromEntries(keys.map((k) => [k, true]));
  return validate(schema.pick(mask as never) as z.ZodType<Pick<Config, K>>, env, () => []);
}

/**
 * Parse `env` (file variables resolved, empty strings unset) with `shape`, then ask `crossChecks` about the parsed
 * values; one ConfigError lists every problem of both.
 */
function validate<T>(shape: z.ZodType<T>, env: NodeJS.ProcessEnv, crossChecks: (config: T) => string[]): T {
  const problems: string[] = [];
  const resolved = resolveFileVariables(env, problems);
  const input = Object.fromEntries(Object.entries(resolved).filter(([, v]) => v !== undefined && v !== ''));
  const result = shape.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path.join('.');
      problems.push(`${name}${SECRET_KEYS.has(name) ? '' : describeValue(input[name])}: ${issue.message}`);
    }
  } else problems.push(...crossChecks(result.data));
  if (problems.length > 0 || !result.success) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return result.data;
}

/** Variables that may instead be given as a path in NAME_FILE (Docker/Kubernetes secrets). */
export const FILE_VARIABLES = [
  'DATABASE_URL', 'REDIS_URL', 'SMTP_USER', 'SMTP_PASSWORD', 'PAYLOAD_ENCRYPTION_KEY', 'UNSUBSCRIBE_SECRET', 'UNSUBSCRIBE_PREVIOUS_SECRETS',
] as const;
/** Never printed, not even when invalid. URLs (DATABASE_URL, REDIS_URL) are printed with the password masked. */
const SECRET_KEYS = new Set(['SMTP_PASSWORD', 'PAYLOAD_ENCRYPTION_KEY', 'UNSUBSCRIBE_SECRET', 'UNSUBSCRIBE_PREVIOUS_SECRETS']);
const URL_KEYS = new Set(['DATABASE_URL', 'REDIS_URL']);

function resolveFileVariables(env: NodeJS.ProcessEnv, problems: string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file || env[name]) continue;
    try {
      out[name] = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Parse and validate; throws one ConfigError listing every problem. Empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return validate(schema, env, (config) => {
    const problems: string[] = [];
    if (config.SMTP_SOCKET_TIMEOUT_MS >= config.SEND_ATTEMPT_TIMEOUT_MS) {
      problems.push(
        `SMTP_SOCKET_TIMEOUT_MS (${config.SMTP_SOCKET_TIMEOUT_MS}) must be below SEND_ATTEMPT_TIMEOUT_MS ` +
          `(${config.SEND_ATTEMPT_TIMEOUT_MS}), or a hung SMTP server outlives the attempt`,
      );
    }
    if (config.LOCK_BACKEND === 'redis' && !config.REDIS_URL) {
      problems.push('REDIS_URL: required when LOCK_BACKEND=redis (or set LOCK_BACKEND=postgres)');
    }
    if ((config.UNSUBSCRIBE_URL || config.UNSUBSCRIBE_PORT) && !config.UNSUBSCRIBE_SECRET) {
      problems.push('UNSUBSCRIBE_SECRET: required with UNSUBSCRIBE_URL or UNSUBSCRIBE_PORT (it signs and checks the unsubscribe links)');
    }
    return problems;
  });
}

function describeValue(value: unknown): string {
  if (value === undefined) return ' (not set)';
  // Something that does not parse as a URL but has an `@` may still hold a password (`postgres//u:secret@db`).
  if (!canParseUrl(String(value)) && String(value).includes('@')) return ' (value hidden)';
  return ` (got ${JSON.stringify(redactUrl(String(value)))})`;
}

function canParseUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Replace the password in a connection URL with ***; leaves other strings alone. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    // Query parameters may carry credentials too (`?password=…`, `?sslpassword=…`).
    for (const key of [...u.searchParams.keys()]) if (/pass|secret|token|key$/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return value;
  }
}

/** A copy safe to log: secrets replaced, passwords in URLs masked. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_KEYS.has(key)) out[key] = value === undefined ? undefined : '***';
    else if (URL_KEYS.has(key) && typeof value === 'string') out[key] = canParseUrl(value) ? redactUrl(value) : '***';
    else out[key] = value;
  }
  return out;
}
