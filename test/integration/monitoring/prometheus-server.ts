/**
 * A private, real Prometheus server for one test file: Debian's `prometheus` binary (installed by
 * scripts/bootstrap.sh for npm test) on a free 127.0.0.1 port, its data in the test's temporary directory, with
 * the deployment's own scrape job (deploy/prometheus/prometheus.yml: job name, label handling) and alert rules —
 * only the targets (local worker processes instead of the compose service's DNS name) and the intervals (1 s, so
 * a test does not wait 15 s per sample) differ. Stopped by stop(), also when start-up fails.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../../devkit/services/ports';
import { stopChild } from '../../../devkit/services/processes';

const DEPLOY = path.resolve(__dirname, '../../../deploy/prometheus');
export const SCRAPE_JOB = 'sendonce-worker';

export interface Sample { metric: Record<string, string>; value: [number, string] }

export interface PrometheusServer {
  url: string;
  /** An instant query; throws on a PromQL error, so a malformed expression fails the test loudly. */
  query(expr: string): Promise<Sample[]>;
  get<T>(apiPath: string): Promise<T>;
  stop(): Promise<void>;
}

interface ScrapeConfig { job_name: string; dns_sd_configs?: unknown; static_configs?: unknown }

/** deploy/prometheus/prometheus.yml's worker job with `targets` (host:port), 1 s intervals, absolute rule paths. */
export function testConfig(targets: string[]): string {
  const config = parse(fs.readFileSync(path.join(DEPLOY, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = config.rule_files.map((f) => path.join(DEPLOY, f));
  const job = config.scrape_configs.find((s) => s.job_name === SCRAPE_JOB);
  if (!job) throw new Error(`deploy/prometheus/prometheus.yml has no scrape job ${SCRAPE_JOB}`);
  delete job.dns_sd_configs;
  job.static_configs = [{ targets }];
  // Only the worker job: the Temporal server's (temporal:8000) has no target here (npm run rehearse scrapes it).
  config.scrape_configs = [job];
  return stringify(config);
}

export async function startPrometheus(dir: string, targets: string[]): Promise<PrometheusServer> {
  fs.mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, testConfig(targets));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const get = async <T>(apiPath: string): Promise<T> => {
    const res = await fetch(url + apiPath);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${apiPath}: ${body.error}`);
    return body.data;
  };
  const server: PrometheusServer = {
    url,
    get,
    query: async (expr) => (await get<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    stop: () => stopChild(child, 10_000),
  };
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      const ready = await Promise.race([fetch(`${url}/-/ready`).then((r) => r.ok, () => false), spawnError.then((e) => { throw e; })]);
      if (ready) return server;
      if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('prometheus not ready within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message} (npm test installs Debian's prometheus package via scripts/bootstrap.sh)\n${stderr}`);
  }
}
