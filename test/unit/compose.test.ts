/**
 * No Docker engine runs here, so the compose file and the Dockerfile are checked as data: the services a
 * deployment needs, pinned images, loopback-only ports, health-gated dependencies, and a worker environment
 * that loadConfig accepts as it stands — so neither file can silently rot as the code changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS, FILE_VARIABLES, REQUIRED_CONFIG_KEYS, loadConfig } from '../../src/config';
import { temporalTarget } from '../../src/temporal-connection';

const ROOT = path.resolve(__dirname, '../..');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; interval?: string };
  command?: string[];
  stop_grace_period?: string;
}
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

/** `${NAME:-default}` → default (what compose does with NAME unset). */
const interpolate = (value: string) => String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
const envOf = (name: string) => Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN);

/** Variables read through @temporalio/envconfig (envconfig-toml.ts applyProfileEnvVars) rather than loadConfig. */
const TEMPORAL_ENV = /^TEMPORAL_(ADDRESS|NAMESPACE|API_KEY|TLS|TLS_[A-Z_]+|PROFILE|CONFIG_FILE|CODEC_ENDPOINT|CODEC_AUTH|GRPC_META_[A-Z0-9_]+)$/;

test('the services a deployment needs are all there', () => {
  for (const name of ['postgres', 'redis', 'temporal', 'temporal-ui', 'mail', 'worker']) assert.ok(services[name], `service ${name}`);
  assert.match(services.postgres!.image!, /^postgres:/);
  assert.match(services.redis!.image!, /^redis:/);
  assert.match(services.temporal!.image!, /^temporalio\/(auto-setup|server):/);
  assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:/);
  assert.equal(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.match(services.mail!.image!, /maildev|mailpit|mailhog/);
  assert.ok(services.mail!.ports!.some((p) => p.endsWith(':1080')), 'the mail catcher publishes its web inbox');
});

test('Temporal is backed by the Postgres service, not an in-memory or SQLite store', () => {
  const env = services.temporal!.environment!;
  assert.match(env.DB!, /^postgres/);
  assert.equal(env.POSTGRES_SEEDS, 'postgres');
  assert.deepEqual((services.temporal!.depends_on as Record<string, unknown>).postgres, { condition: 'service_healthy' });
});

test('the worker is built from the Dockerfile in this repository', () => {
  const build = services.worker!.build;
  const dockerfileName = typeof build === 'string' ? 'Dockerfile' : build?.dockerfile ?? 'Dockerfile';
  assert.ok(build, 'worker has a build section');
  assert.ok(fs.existsSync(path.join(ROOT, dockerfileName)), `${dockerfileName} exists`);
});

test('every third-party image is pinned to a version (no latest, no bare major for core services)', () => {
  const built = new Set(Object.values(services).filter((s) => s.build && s.image).map((s) => s.image));
  for (const [name, s] of Object.entries(services)) {
    if (s.build || built.has(s.image)) continue;
    assert.ok(s.image, `${name} has an image`);
    assert.match(s.image!, /(:\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/, `${name} image ${s.image} is pinned to major.minor or a digest`);
  }
  for (const from of dockerfile.matchAll(/^FROM\s+(\S+)/gm)) assert.match(from[1]!, /:\d+\.\d+/, `Dockerfile FROM ${from[1]} pinned`);
});

test('every published port is bound to 127.0.0.1', () => {
  for (const [name, s] of Object.entries(services)) {
    for (const port of s.ports ?? []) assert.match(String(port), /^127\.0\.0\.1:\d+(-\d+)?:\d+$/, `${name} port ${port}`);
  }
});

test('long-running services have health checks, and dependencies wait for them', () => {
  const oneShot = new Set(['schedules']);
  for (const [name, s] of Object.entries(services)) {
    if (oneShot.has(name)) continue;
    assert.ok(s.healthcheck?.test, `${name} has a healthcheck`);
  }
  for (const [name, s] of Object.entries(services)) {
    assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on uses conditions, not a bare list`);
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on existing service ${dep}`);
      const expected = services[dep]!.healthcheck ? 'service_healthy' : 'service_completed_successfully';
      assert.equal(condition, expected, `${name} → ${dep}`);
    }
  }
  const worker = services.worker!.depends_on as Record<string, unknown>;
  for (const dep of ['postgres', 'redis', 'temporal', 'mail']) assert.ok(worker[dep], `worker waits for ${dep}`);
});

test('the worker environment holds only variables the code reads, and loadConfig accepts it as is', () => {
  const known = new Set([...CONFIG_KEYS, ...FILE_VARIABLES.map((v) => `${v}_FILE`), 'NODE_ENV']);
  for (const name of ['worker', 'schedules']) {
    for (const key of Object.keys(services[name]?.environment ?? {})) {
      assert.ok(known.has(key) || TEMPORAL_ENV.test(key), `${name}: ${key} is read by loadConfig or @temporalio/envconfig`);
    }
  }
  const env = envOf('worker');
  for (const key of REQUIRED_CONFIG_KEYS) assert.ok(env[key] || env[`${key}_FILE`], `required ${key} is set`);
  const config = loadConfig(env);
  assert.equal(config.LOCK_BACKEND, 'redis');
  assert.match(config.DATABASE_URL, /@postgres:5432\//);
  assert.equal(config.REDIS_URL, 'redis://redis:6379');
  assert.equal(config.SMTP_HOST, 'mail');
  assert.equal(temporalTarget(env).connectionOptions.address, 'temporal:7233');
  assert.equal(temporalTarget(env).namespace, 'default');
  assert.equal(temporalTarget(env).dataConverter, undefined, 'an unset PAYLOAD_ENCRYPTION_KEY means no codec');
});

test('the worker health check probes /readyz on HEALTH_PORT, and Docker waits longer than the drain', () => {
  const worker = services.worker!;
  const probe = ([] as string[]).concat(worker.healthcheck!.test).join(' ');
  assert.match(probe, new RegExp(`127\\.0\\.0\\.1:${worker.environment!.HEALTH_PORT}/readyz`));
  assert.ok(seconds(worker.stop_grace_period!) * 1000 > Number(worker.environment!.SHUTDOWN_GRACE_MS), 'stop_grace_period > SHUTDOWN_GRACE_MS');
  assert.ok(worker.ports!.some((p) => p.endsWith(`:${worker.environment!.METRICS_PORT}`)), 'metrics port published');
  assert.equal(worker.environment!.WORKFLOW_BUNDLE_PATH, '/app/dist/workflow-bundle.js');
});

test('Dockerfile: multi-stage, prebuilt workflow bundle, non-root runtime, sources it copies exist', () => {
  const stages = dockerfile.split(/^FROM\s/m).slice(1);
  assert.ok(stages.length >= 2, 'at least two stages');
  assert.match(stages[0]!, /scripts\/bundle-workflows\.ts dist\/workflow-bundle\.js/);
  const runtime = stages[stages.length - 1]!;
  const user = [...runtime.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
  assert.ok(user && !['root', '0', '0:0'].includes(user), `runtime USER is ${user}`);
  assert.match(runtime, /COPY --from=build .*\/app\/dist/);
  assert.match(runtime, /WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
  assert.match(runtime, /^HEALTHCHECK [\s\S]*?\/readyz/m);
  for (const copy of dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)) {
    const sources = copy[1]!.split(/\s+/).filter((s) => !s.startsWith('--')).slice(0, -1);
    for (const src of sources) assert.ok(fs.existsSync(path.join(ROOT, src)), `COPY source ${src} exists`);
  }
  const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
  assert.match(ignored, /^node_modules$/m);
});
