/**
 * The compose `prometheus` service here: deploy/prometheus/prometheus.yml and its rule files, with the scrape
 * targets rewritten mechanically (a `dns_sd_configs` name → the running replicas of that compose service, a static
 * `service:port` → its loopback port). Every scrape job must resolve to something the rehearsal runs or knows is
 * not running (a profile service such as worker-next has no replicas: an empty target list, as Docker's DNS gives).
 * With `timeScale` > 1 the intervals and every rule's `for:` are divided by it (reported; 1 = the file as is).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { asList, durationMs, hostPathOf, service, type ComposeService } from './compose';
import { startProgram, type Program } from './processes';
import { poll, runOnce, type Context } from './stack';

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: Array<{ names: string[]; port: number; type?: string; refresh_interval?: string }>;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  [key: string]: unknown;
}

const scaled = (text: string, scale: number) => `${Math.max(1, Math.round(durationMs(text) / scale / 1000))}s`;

/** Flag → file path inside the container, e.g. --config.file=/etc/prometheus/prometheus.yml. */
const flagValue = (args: string[], flag: string) => args.find((a) => a.startsWith(`--${flag}=`))?.split('=')[1];

export interface PrometheusHandle {
  program: Program;
  url: string;
  jobs: string[];
}

export async function startPrometheus(ctx: Context, replicasOf: (svc: string) => number[], timeScale: number): Promise<PrometheusHandle> {
  const s: ComposeService = service(ctx.compose, 'prometheus');
  const args = asList(s.command);
  const configPath = hostPathOf(s, flagValue(args, 'config.file') ?? '/etc/prometheus/prometheus.yml');
  if (!configPath) throw new Error('prometheus: --config.file is not a mounted file');
  const config = parse(fs.readFileSync(configPath, 'utf8')) as {
    global?: Record<string, string>;
    rule_files?: string[];
    scrape_configs: ScrapeConfig[];
  };
  const dir = path.join(ctx.runDir, 'prometheus');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  if (timeScale > 1) {
    for (const key of ['scrape_interval', 'evaluation_interval']) if (config.global?.[key]) config.global[key] = scaled(config.global[key], timeScale);
  }
  for (const job of config.scrape_configs) {
    const targets: string[] = [];
    for (const sd of job.dns_sd_configs ?? []) for (const name of sd.names) for (const port of replicasOf(name)) targets.push(`127.0.0.1:${port}`);
    for (const sc of job.static_configs ?? []) sc.targets = sc.targets.map((t) => ctx.endpoints.rewriteText(t));
    if (job.dns_sd_configs) {
      job.static_configs = [...(job.static_configs ?? []), { targets }];
      delete job.dns_sd_configs;
    }
  }
  for (const file of config.rule_files ?? []) {
    const rules = parse(fs.readFileSync(path.join(path.dirname(configPath), file), 'utf8')) as { groups: Array<{ interval?: string; rules: Array<{ for?: string }> }> };
    if (timeScale > 1) {
      for (const g of rules.groups) {
        if (g.interval) g.interval = scaled(g.interval, timeScale);
        for (const r of g.rules) if (r.for) r.for = scaled(r.for, timeScale);
      }
    }
    fs.writeFileSync(path.join(dir, path.basename(file)), stringify(rules));
  }
  config.rule_files = (config.rule_files ?? []).map((f) => path.basename(f));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const check = await runOnce(['promtool', 'check', 'config', path.join(dir, 'prometheus.yml')], { PATH: '/usr/bin:/bin' }, dir, 30_000);
  if (check.code !== 0) throw new Error(`promtool check config failed:\n${check.output}`);

  const port = await ctx.endpoints.add('prometheus', 9090);
  const argv = ['prometheus', ...args.map((a) => (a.startsWith('--config.file=') ? `--config.file=${path.join(dir, 'prometheus.yml')}` : a.startsWith('--storage.tsdb.path=') ? `--storage.tsdb.path=${path.join(dir, 'data')}` : a)), `--web.listen-address=127.0.0.1:${port}`];
  const program = startProgram({ name: 'prometheus', argv, env: { PATH: '/usr/bin:/bin' }, cwd: dir, logFile: path.join(ctx.runDir, 'logs/prometheus.log'), ...(s.restart ? { restart: s.restart } : {}) });
  ctx.stops.push({ name: 'prometheus', stop: () => program.stop() });
  const url = `http://127.0.0.1:${port}`;
  await poll('prometheus ready', 30_000, async () => (await fetch(`${url}/-/ready`)).ok);
  const version = (await runOnce(['prometheus', '--version'], { PATH: '/usr/bin:/bin' }, dir, 5_000)).output.split('\n')[0];
  ctx.gaps.add(`prometheus: Debian's ${version}, not the prom/prometheus image; dns_sd_configs → static targets of the running replicas${timeScale > 1 ? `; scrape/evaluation intervals and rule \`for:\` divided by ${timeScale} (npm run rehearse -- --real-alert-timing keeps them)` : ''}`);
  return { program, url, jobs: config.scrape_configs.map((j) => j.job_name) };
}

export interface Target {
  labels: { job: string; instance: string };
  health: string;
}

export async function targets(url: string): Promise<Target[]> {
  const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets;
}

export async function alertState(url: string, name: string): Promise<string> {
  const body = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
  return body.data.alerts.find((a) => a.labels.alertname === name)?.state ?? 'inactive';
}
