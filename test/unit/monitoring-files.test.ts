/**
 * The monitoring files as data and through Prometheus' own checker: promtool (Debian's `prometheus` package,
 * installed by scripts/bootstrap.sh) validates the Prometheus config and the alert rules and runs the rules' unit
 * tests (deploy/prometheus/alerts.test.yml); the Grafana provisioning and dashboard are checked for consistency
 * with the compose file. Whether every expression returns series from real workers:
 * test/integration/monitoring.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, compose, read } from './deploy-files';

const PROMETHEUS_DIR = path.join(ROOT, 'deploy/prometheus');

function promtool(...args: string[]): string {
  const run = spawnSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`promtool not runnable (${run.error.message}): npm test installs it (Debian package prometheus) through scripts/bootstrap.sh`);
  assert.equal(run.status, 0, `promtool ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout + run.stderr;
}

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const rules = (parse(read('deploy/prometheus/alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const ruleTests = parse(read('deploy/prometheus/alerts.test.yml')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };

test('promtool: the Prometheus configuration and the alert rules are valid', () => {
  assert.match(promtool('check', 'config', 'prometheus.yml'), /SUCCESS: prometheus\.yml is valid/);
  assert.match(promtool('check', 'rules', 'alerts.yml'), new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules: every alert has unit tests that expect it to fire and to stay quiet', () => {
  assert.match(promtool('test', 'rules', 'alerts.test.yml'), /SUCCESS/);
  const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const rule of rules.filter((r) => r.alert)) {
    const mine = cases.filter((c) => c.alertname === rule.alert);
    assert.ok(mine.some((c) => c.exp_alerts.length > 0), `${rule.alert}: a case where it fires`);
    assert.ok(mine.some((c) => c.exp_alerts.length === 0), `${rule.alert}: a case where it stays quiet`);
  }
});

test('every alert says how bad it is and what to look at', () => {
  for (const rule of rules) {
    assert.ok(rule.alert, 'alerts only: recording rules would need queries of their own');
    assert.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity`);
    assert.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert}: summary and description`);
  }
});

test('Prometheus scrapes the compose workers on their metrics port with a standard scrape config (no honor_labels)', () => {
  const config = parse(read('deploy/prometheus/prometheus.yml')) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; honor_labels?: boolean; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
  };
  assert.deepEqual(config.rule_files, ['alerts.yml']);
  const job = config.scrape_configs.find((s) => s.job_name === 'sendonce-worker');
  assert.ok(job, 'scrape job sendonce-worker (the alerts and the dashboard select up{job="sendonce-worker"})');
  // sendonce's series name their job in `sendonce_job`; `job` stays Prometheus' own (the scrape job's name).
  assert.equal(job.honor_labels, undefined);
  const worker = compose.services.worker!;
  assert.deepEqual(job.dns_sd_configs?.[0]?.names, ['worker', 'worker-next'], 'every replica of both worker services (a release runs worker-next)');
  assert.equal(String(job.dns_sd_configs?.[0]?.port), worker.environment!.METRICS_PORT);
});

interface Panel { title: string; datasource?: { uid: string }; targets?: Array<{ expr: string; datasource?: { uid: string } }> }
const dashboard = JSON.parse(read('deploy/grafana/dashboards/sendonce.json')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; datasource: { uid: string }; query: { query: string } }> };
};

test('Grafana: the provisioned data source is the compose Prometheus, and the dashboard is loaded from where compose mounts it', () => {
  const sources = (parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ uid: string; url: string; type: string }> }).datasources;
  assert.equal(sources.length, 1);
  assert.equal(sources[0]!.type, 'prometheus');
  assert.equal(sources[0]!.url, 'http://prometheus:9090');
  assert.ok(compose.services.prometheus!.ports!.some((p) => p.endsWith(':9090')));
  const providers = (parse(read('deploy/grafana/provisioning/dashboards/sendonce.yml')) as { providers: Array<{ options: { path: string } }> }).providers;
  const mount = compose.services.grafana!.volumes!.find((v) => v.startsWith('./deploy/grafana/dashboards:'))!;
  assert.equal(providers[0]!.options.path, mount.split(':')[1]);
  const uids = new Set([
    ...dashboard.panels.flatMap((p) => [p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource?.uid)]),
    ...dashboard.templating.list.map((v) => v.datasource.uid),
  ]);
  assert.deepEqual([...uids], [sources[0]!.uid], 'every panel, query and variable uses the provisioned data source');
});

test('the dashboard has the panels operators need, each with a query', () => {
  assert.equal(dashboard.uid, 'sendonce');
  for (const panel of dashboard.panels) assert.ok((panel.targets ?? []).length > 0 && panel.targets!.every((t) => t.expr.trim()), `${panel.title}: queries`);
  const exprs = dashboard.panels.flatMap((p) => p.targets!.map((t) => t.expr)).join('\n');
  for (const metric of ['sendonce_runs', 'sendonce_emails_sent', 'sendonce_emails_dead', 'sendonce_emails_unknown', 'outcome="lock_lost"',
    'sendonce_emails_rate_limit_waits', 'sendonce_run_duration_seconds_bucket', 'up{job="sendonce-worker"}', 'temporal_']) {
    assert.ok(exprs.includes(metric), `a panel shows ${metric}`);
  }
  assert.deepEqual(dashboard.templating.list.map((v) => v.query.query), ['label_values(sendonce_runs, sendonce_job)']);
});
