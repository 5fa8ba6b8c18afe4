/**
 * deploy/kubernetes without a cluster (none runs where sendonce is maintained): scripts/kubernetes-validate (Go)
 * builds the kustomization with kustomize's library and decodes every object strictly into the k8s.io/api and
 * prometheus-operator types, then checks probes, grace period, resources, selectors, ports and secrets. It is
 * built once per source hash into the per-user cache (Go and, the first time, the Go module proxy needed).
 * Then, here: that it fails on broken manifests, that the PrometheusRule is alerts.yml, and that the manifests
 * agree with docker-compose.yml and loadConfig.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS, FILE_VARIABLES, REQUIRED_CONFIG_KEYS, loadConfig } from '../../src/config';
import { toolCacheDir } from '../../devkit/services/tool-paths';
import { ROOT, TEMPORAL_ENV, compose, dockerfile, interpolate, read } from './deploy-files';

const MANIFESTS = path.join(ROOT, 'deploy/kubernetes');
const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const SOURCE = path.join(ROOT, 'scripts/kubernetes-validate');

/** The validator binary, built by `go build` on first use and kept under ~/.cache/sendonce by its source's hash. */
function validator(): string {
  const files = fs.readdirSync(SOURCE).filter((f) => /\.go$|^go\.(mod|sum)$/.test(f)).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(fs.readFileSync(path.join(SOURCE, f)));
  const bin = path.join(toolCacheDir(), `kubernetes-validate-${hash.digest('hex').slice(0, 16)}`, 'kubernetes-validate');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const partial = `${bin}.${process.pid}`;
  const build = spawnSync('go', ['build', '-buildvcs=false', '-o', partial, '.'], { cwd: SOURCE, encoding: 'utf8', timeout: 15 * 60_000 });
  if (build.error) throw new Error(`go not runnable (${build.error.message}): the validator needs Go ≥ 1.25`);
  assert.equal(build.status, 0, `go build scripts/kubernetes-validate:\n${build.stderr}`);
  fs.renameSync(partial, bin);
  return bin;
}

function validate(...args: string[]) {
  const run = spawnSync(validator(), args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('the manifests build with kustomize, decode strictly into the official types and pass the checks', () => {
  const run = validate('-alerts', ALERTS, MANIFESTS);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n').sort(), [
    'ok ConfigMap sendonce-config', 'ok Deployment sendonce-worker', 'ok Job sendonce-schedules', 'ok PodDisruptionBudget sendonce-worker',
    'ok PodMonitor sendonce-worker', 'ok PrometheusRule sendonce', 'ok Service sendonce-unsubscribe',
  ]);
});

/** A copy of deploy/kubernetes with one file's text replaced: the change must apply, and the validator must refuse it. */
function refuses(file: string, from: string | RegExp, to: string, expected: RegExp): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-k8s-'));
  try {
    fs.cpSync(MANIFESTS, dir, { recursive: true });
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const changed = text.replace(from, to);
    assert.notEqual(changed, text, `${file}: ${String(from)} not found`);
    fs.writeFileSync(path.join(dir, file), changed);
    const run = validate(dir);
    assert.equal(run.status, 1, `${file}: ${to} was accepted`);
    assert.match(run.stderr, expected);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the validator refuses broken manifests', () => {
  refuses('worker.yaml', 'terminationGracePeriodSeconds: 45', 'terminationGracePeriodSecond: 45', /unknown field "terminationGracePeriodSecond"/);
  refuses('podmonitor.yaml', 'podMetricsEndpoints:', 'podMetricEndpoints:', /PodMonitor sendonce-worker: .*unknown field "podMetricEndpoints"/);
  refuses('kustomization.yaml', /^resources:/m, 'resource:', /invalid Kustomization: .*unknown field "resource"/);
  refuses('worker.yaml', 'terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: 30', /must exceed SHUTDOWN_GRACE_MS \+ 10 s \(40000 ms\)/);
  refuses('worker.yaml', 'path: /readyz', 'path: /healthz', /readinessProbe must get \/readyz/);
  refuses('worker.yaml', / +readinessProbe:\n( {12}.*\n)+/, '', /readinessProbe must be an httpGet probe/);
  refuses('worker.yaml', /( +)- name: DATABASE_URL_FILE\n +value: .*/, '$1- name: DATABASE_URL\n$1  value: postgres://u:p@db/sendonce', /DATABASE_URL has a literal value/);
  refuses('worker.yaml', 'memory: 512Mi', 'memory: 1Gi', /memory limit at least the request/);
  refuses('worker.yaml', 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false', /Deployment sendonce-worker container worker: readOnlyRootFilesystem/);
  refuses('podmonitor.yaml', '- port: metrics', '- port: health', /PodMonitor sendonce-worker: port "health" is not the worker's METRICS_PORT/);
  refuses('unsubscribe-service.yaml', 'targetPort: unsubscribe', 'targetPort: metrics', /exposes the worker's metrics port/);
  refuses('unsubscribe-service.yaml', 'app.kubernetes.io/component: worker', 'app.kubernetes.io/component: workers', /does not select the worker pods/);
  refuses('schedules-job.yaml', 'key: TASK_QUEUE', 'key: TASK_QUEU', /ConfigMap sendonce-config key TASK_QUEU/);
});

test('the PrometheusRule is deploy/prometheus/alerts.yml, generated', () => {
  const generated = validate('-prometheus-rule', ALERTS);
  assert.equal(generated.status, 0, generated.stderr);
  assert.equal(read('deploy/kubernetes/prometheus-rule.yaml'), generated.stdout, 'regenerate: see the header of deploy/kubernetes/prometheus-rule.yaml');
  const changed = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-alerts-')), 'alerts.yml');
  fs.writeFileSync(changed, read('deploy/prometheus/alerts.yml').replace('for: 30m', 'for: 45m'));
  const drift = validate('-alerts', changed, MANIFESTS);
  assert.equal(drift.status, 1);
  assert.match(drift.stderr, /PrometheusRule sendonce differs/);
});

interface Container {
  name: string; image: string; command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  ports?: Array<{ name: string; containerPort: number }>;
}
interface PodSpec { terminationGracePeriodSeconds?: number; containers: Container[] }
interface K8sObject {
  kind: string; metadata: { name: string }; data?: Record<string, string>;
  spec: { replicas?: number; template: { spec: PodSpec }; podMetricsEndpoints?: Array<{ relabelings?: Array<{ targetLabel: string; replacement: string }> }> };
}
const built = (): K8sObject[] => {
  const run = validate('-json', MANIFESTS);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as K8sObject[];
};
const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
/** The names a container sees set (literal, referenced, or from a ConfigMap), with NAME_FILE counted as NAME. */
function namesOf(objects: K8sObject[], c: Container): Set<string> {
  const names = (c.env ?? []).map((e) => e.name.replace(/_FILE$/, ''));
  for (const from of c.envFrom ?? []) names.push(...Object.keys(find(objects, 'ConfigMap', from.configMapRef!.name).data ?? {}));
  return new Set(names);
}
const imageEnv = new Set([...dockerfile.matchAll(/^\s*([A-Z_]+)=/gm)].map((m) => m[1]!));

test('the worker and the schedules Job have what compose gives them: variables, ports, grace period, replicas, command', () => {
  const objects = built();
  const deployment = find(objects, 'Deployment', 'sendonce-worker');
  const worker = deployment.spec.template.spec.containers[0]!;
  const workerEnv = Object.fromEntries((worker.env ?? []).map((e) => [e.name, e.value]));
  const composeWorker = compose.services.worker!;
  const composeEnv = Object.fromEntries(Object.entries(composeWorker.environment!).map(([k, v]) => [k, interpolate(v)]));
  const names = namesOf(objects, worker);
  for (const key of Object.keys(composeEnv)) assert.ok(names.has(key) || imageEnv.has(key), `worker: ${key} (compose) is set`);
  for (const key of ['METRICS_PORT', 'HEALTH_PORT', 'UNSUBSCRIBE_PORT', 'SHUTDOWN_GRACE_MS']) assert.equal(workerEnv[key], composeEnv[key], key);
  const ports = Object.fromEntries((worker.ports ?? []).map((p) => [p.name, String(p.containerPort)]));
  assert.deepEqual(ports, { metrics: composeEnv.METRICS_PORT, health: composeEnv.HEALTH_PORT, unsubscribe: composeEnv.UNSUBSCRIBE_PORT });
  assert.equal(`${deployment.spec.template.spec.terminationGracePeriodSeconds}s`, composeWorker.stop_grace_period);
  assert.equal(deployment.spec.replicas, composeWorker.deploy!.replicas);
  assert.match(worker.image, /^sendonce-worker:\S+$/);

  const job = find(objects, 'Job', 'sendonce-schedules').spec.template.spec.containers[0]!;
  assert.deepEqual(job.command, compose.services.schedules!.command);
  const jobNames = namesOf(objects, job);
  for (const key of Object.keys(compose.services.schedules!.environment!)) assert.ok(jobNames.has(key), `schedules: ${key} (compose) is set`);

  const known = new Set([...CONFIG_KEYS, ...FILE_VARIABLES]);
  for (const key of [...names, ...jobNames]) assert.ok(known.has(key) || TEMPORAL_ENV.test(key), `${key} is read by loadConfig or @temporalio/envconfig`);
});

test('loadConfig accepts the worker\'s environment as the manifests give it (secret files stand in for the Secret)', () => {
  const objects = built();
  const worker = find(objects, 'Deployment', 'sendonce-worker').spec.template.spec.containers[0]!;
  const secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-secrets-'));
  const values: Record<string, string> = {
    'database-url': 'postgres://sendonce:secret@postgres.example:5432/sendonce', 'redis-url': 'redis://redis.example:6379',
    'unsubscribe-secret': 'a-secret-of-at-least-thirty-two-characters',
  };
  for (const [key, value] of Object.entries(values)) fs.writeFileSync(path.join(secrets, key), value);
  const env: Record<string, string> = { ...find(objects, 'ConfigMap', 'sendonce-config').data };
  for (const e of worker.env ?? []) if (e.value !== undefined) env[e.name] = e.value.replace('/run/secrets/sendonce', secrets);
  for (const key of REQUIRED_CONFIG_KEYS) assert.ok(env[key] || env[`${key}_FILE`], `required ${key} is set`);
  const config = loadConfig(env);
  assert.equal(config.DATABASE_URL, values['database-url']);
  assert.equal(config.UNSUBSCRIBE_PORT, 8089);
  fs.rmSync(secrets, { recursive: true, force: true });
});

test('the PodMonitor names its scrape job as deploy/prometheus/prometheus.yml does, which the alerts select', () => {
  const monitor = find(built(), 'PodMonitor', 'sendonce-worker');
  const relabel = monitor.spec.podMetricsEndpoints![0]!.relabelings!.find((r) => r.targetLabel === 'job')!;
  const scrapeJobs = (parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: Array<{ job_name: string }> }).scrape_configs.map((s) => s.job_name);
  assert.ok(scrapeJobs.includes(relabel.replacement));
  assert.ok(read('deploy/prometheus/alerts.yml').includes(`up{job="${relabel.replacement}"}`));
});
