/**
 * No Docker engine runs here, so the compose file is checked as data: the services a deployment needs, pinned
 * images, loopback-only ports, health-gated dependencies, Temporal set up the way its self-hosting guide does,
 * mounted files that exist, and a worker environment that loadConfig accepts as it stands — so the file cannot
 * silently rot as the code changes. The image itself: test/unit/image.test.ts; monitoring files:
 * test/unit/monitoring-files.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS, FILE_VARIABLES, REQUIRED_CONFIG_KEYS, loadConfig } from '../../src/config';
import { parse as parseYaml } from 'yaml';
import { temporalTarget } from '../../src/temporal-connection';
import { searchAttributeFlags } from '../../src/visibility';
import { ROOT, compose, interpolate, TEMPORAL_ENV } from './deploy-files';

const services = compose.services;
const envOf = (name: string) => Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN);
/** Services that run once and exit: nothing to health-check, dependents wait for them to complete. */
const ONE_SHOT = new Set(['temporal-schema', 'temporal-namespace', 'schedules']);

test('the services a deployment needs are all there', () => {
  for (const name of ['postgres', 'redis', 'temporal-schema', 'temporal', 'temporal-namespace', 'temporal-ui', 'mail', 'worker', 'schedules', 'prometheus', 'grafana']) {
    assert.ok(services[name], `service ${name}`);
  }
  assert.match(services.postgres!.image!, /^postgres:/);
  assert.match(services.redis!.image!, /^redis:/);
  assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:/);
  assert.equal(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.match(services.mail!.image!, /^maildev\/maildev:/);
  assert.ok(services.mail!.ports!.some((p) => p.endsWith(':1080')), 'the mail catcher publishes its web inbox');
  assert.match(services.prometheus!.image!, /^prom\/prometheus:/);
  assert.match(services.grafana!.image!, /^grafana\/grafana:/);
});

test('Temporal as documented for self-hosting: admin-tools applies the schema, then temporalio/server, then the namespace', () => {
  const server = services.temporal!;
  assert.match(server.image!, /^temporalio\/server:\d+\.\d+\.\d+$/, 'temporalio/auto-setup is deprecated');
  const version = server.image!.split('@')[0]!.split(':')[1];
  for (const name of ['temporal-schema', 'temporal-namespace']) {
    assert.equal(services[name]!.image, `temporalio/admin-tools:${version}`, `${name}: admin-tools of the server's version`);
  }
  // The schema step talks to the Postgres service, with the credentials the server uses.
  const schema = envOf('temporal-schema');
  const env = envOf('temporal');
  assert.match(env.DB!, /^postgres12/);
  for (const key of ['DB', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_SEEDS']) assert.equal(schema[key], env[key], `temporal-schema ${key}`);
  assert.equal(env.POSTGRES_SEEDS, 'postgres');
  assert.equal(schema.SQL_PASSWORD, env.POSTGRES_PWD);
  assert.equal(env.BIND_ON_IP, '0.0.0.0', 'the server image binds 127.0.0.1 unless told otherwise');
  const script = fs.readFileSync(path.join(ROOT, 'deploy/temporal/setup-postgres.sh'), 'utf8');
  for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) assert.ok(script.includes(step), `setup-postgres.sh runs ${step}`);
  assert.match(script, /temporal_visibility/);
  assert.deepEqual(server.depends_on, { 'temporal-schema': { condition: 'service_completed_successfully' } });
  assert.deepEqual(services['temporal-schema']!.depends_on, { postgres: { condition: 'service_healthy' } });
  assert.equal(envOf('temporal-namespace').NAMESPACE, services.worker!.environment!.TEMPORAL_NAMESPACE);
  assert.match(fs.readFileSync(path.join(ROOT, 'deploy/temporal/create-namespace.sh'), 'utf8'), /temporal operator namespace create/);
  // The dynamic config file the server is told to read is the one mounted there.
  const mounted = (server.volumes ?? []).map((v) => v.split(':')[1]);
  assert.ok(mounted.includes(env.DYNAMIC_CONFIG_FILE_PATH!), `DYNAMIC_CONFIG_FILE_PATH ${env.DYNAMIC_CONFIG_FILE_PATH} is mounted`);
});

test('every file or folder mounted from the repository exists', () => {
  for (const [name, s] of Object.entries(services)) {
    for (const volume of s.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (!source.startsWith('./')) continue; // a named volume
      assert.ok(fs.existsSync(path.join(ROOT, source)), `${name}: ${source} exists`);
    }
    const entry = (s.entrypoint ?? []).find((arg) => arg.startsWith('/sendonce/'));
    if (entry) assert.ok(fs.existsSync(path.join(ROOT, 'deploy/temporal', path.basename(entry))), `${name}: ${entry}`);
  }
});

test('the worker is built from the Dockerfile in this repository, two replicas, and schedules run the same image', () => {
  const worker = services.worker!;
  const build = worker.build;
  const dockerfileName = typeof build === 'string' ? 'Dockerfile' : build?.dockerfile ?? 'Dockerfile';
  assert.ok(build, 'worker has a build section');
  assert.ok(fs.existsSync(path.join(ROOT, dockerfileName)), `${dockerfileName} exists`);
  assert.ok((worker.deploy?.replicas ?? 1) >= 2, 'at least two workers');
  assert.equal(services.schedules!.image, worker.image);
  assert.deepEqual(services.schedules!.command, ['node', 'dist/src/schedule.js']);
});

test('every third-party image is pinned to a version (no latest, no bare major)', () => {
  const built = new Set(Object.values(services).filter((s) => s.build && s.image).map((s) => s.image));
  // worker-next runs the next release of our own image (`docker build -t sendonce-worker:next .`).
  built.add('sendonce-worker:next');
  for (const [name, s] of Object.entries(services)) {
    if (s.build || built.has(s.image)) continue;
    assert.ok(s.image, `${name} has an image`);
    assert.match(s.image!, /(:v?\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/, `${name} image ${s.image} is pinned to major.minor or a digest`);
  }
});

test('every published port is bound to 127.0.0.1', () => {
  for (const [name, s] of Object.entries(services)) {
    for (const port of s.ports ?? []) assert.match(String(port), /^127\.0\.0\.1:\d+(-\d+)?:\d+$/, `${name} port ${port}`);
  }
});

test('long-running services have health checks, and dependencies wait for them', () => {
  for (const [name, s] of Object.entries(services)) {
    if (ONE_SHOT.has(name)) assert.equal(s.healthcheck, undefined, `${name} runs once: no healthcheck`);
    else assert.ok(s.healthcheck?.test, `${name} has a healthcheck`);
  }
  for (const [name, s] of Object.entries(services)) {
    assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on uses conditions, not a bare list`);
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on existing service ${dep}`);
      const expected = ONE_SHOT.has(dep) ? 'service_completed_successfully' : 'service_healthy';
      assert.equal(condition, expected, `${name} → ${dep}`);
    }
  }
  const worker = services.worker!.depends_on as Record<string, unknown>;
  for (const dep of ['postgres', 'redis', 'temporal', 'temporal-namespace', 'mail']) assert.ok(worker[dep], `worker waits for ${dep}`);
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

test('Prometheus and Grafana get their configuration from deploy/, and Grafana reads Prometheus', () => {
  const prometheus = services.prometheus!;
  assert.ok(prometheus.volumes!.includes('./deploy/prometheus:/etc/prometheus:ro'));
  assert.ok(prometheus.command!.includes('--config.file=/etc/prometheus/prometheus.yml'));
  const grafana = services.grafana!;
  assert.ok(grafana.volumes!.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'));
  assert.ok(grafana.volumes!.some((v) => v.startsWith('./deploy/grafana/dashboards:')));
});

test('a versioned deploy: workers join one deployment, and worker-next (profile release) is the next version beside them', () => {
  const worker = envOf('worker');
  assert.equal(worker.WORKER_VERSIONING, 'true');
  assert.equal(worker.DEPLOYMENT_NAME, 'sendonce');
  assert.equal(worker.DEPLOY_PROMOTE, 'if-none', 'a later version waits for `deploy promote`');
  const next = services['worker-next']!;
  assert.deepEqual(next.profiles, ['release'], 'started only for a release');
  assert.deepEqual(envOf('worker-next'), worker, 'the same environment: same task queue, same deployment');
  assert.notEqual(next.image, services.worker!.image, 'another image: the next version');
});

// --- found by the production rehearsal (scripts/rehearse, issue 25) ------------------------------------------------

test('the namespace one-shot registers every search attribute a run sets (the worker refuses to start without them)', () => {
  const script = fs.readFileSync(path.join(ROOT, 'deploy/temporal/create-namespace.sh'), 'utf8');
  const listed = /^SEARCH_ATTRIBUTES="([^"]*)"/m.exec(script)?.[1]?.split(/\s+/).sort();
  assert.deepEqual(listed, searchAttributeFlags().sort());
  assert.match(script, /temporal operator search-attribute create/);
});

test('every long-running service restarts on its own, and node never runs as PID 1 without an init', () => {
  for (const [name, s] of Object.entries(services)) {
    if (ONE_SHOT.has(name)) assert.match(s.restart ?? '', /^on-failure/, `${name} (one-shot) retries a failure only`);
    else assert.match(s.restart ?? '', /^(unless-stopped|always)$/, `${name} has a restart policy`);
  }
  for (const name of ['worker', 'worker-next', 'schedules']) assert.equal(services[name]!.init, true, `${name}: init: true (tini forwards signals, reaps)`);
});

test('the Postgres health check uses TCP, not the Unix socket the image\'s init server already answers on', () => {
  const probe = ([] as string[]).concat(services.postgres!.healthcheck!.test).join(' ');
  assert.match(probe, /pg_isready -h 127\.0\.0\.1 /);
});

test('the history shard count is chosen, not the image default (it cannot change once the database exists)', () => {
  const shards = Number(envOf('temporal').NUM_HISTORY_SHARDS);
  assert.ok(Number.isInteger(shards) && shards >= 64, `NUM_HISTORY_SHARDS=${shards}`);
});

test('Prometheus scrapes both worker services and the Temporal server\'s own metrics', () => {
  const config = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: Array<{ dns_sd_configs?: Array<{ names: string[] }>; static_configs?: Array<{ targets: string[] }> }>;
  };
  const names = config.scrape_configs.flatMap((j) => (j.dns_sd_configs ?? []).flatMap((d) => d.names));
  assert.ok(names.includes('worker') && names.includes('worker-next'), `dns names ${names.join(', ')}`);
  const endpoint = envOf('temporal').PROMETHEUS_ENDPOINT;
  assert.match(endpoint ?? '', /^0\.0\.0\.0:\d+$/, 'the server serves its metrics to the compose network');
  const targets = config.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((s) => s.targets));
  assert.ok(targets.includes(`temporal:${endpoint!.split(':')[1]}`), `static targets ${targets.join(', ')}`);
});
