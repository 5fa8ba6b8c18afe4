/**
 * Every PromQL expression an operator will run, read from the files they are deployed from — the Grafana
 * dashboard (panel queries and the `sendonce_job` variable) and the alert rules — so the test that queries them cannot
 * drift from what is deployed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const DEPLOY = path.resolve(__dirname, '../../../deploy');

/**
 * Grafana fills these in before the query reaches Prometheus. The values are what Grafana would send for a
 * 1-hour view of a 1 s scrape (the test server's interval) with "All" jobs selected (allValue .*).
 */
export const GRAFANA_VARIABLES: Record<string, string> = { $__rate_interval: '1m', $__range: '1h', $sendonce_job: '.*' };

export interface Expression { source: string; expr: string }

function substitute(expr: string, where: string): string {
  let out = expr;
  for (const [name, value] of Object.entries(GRAFANA_VARIABLES)) out = out.split(name).join(value);
  if (out.includes('$')) throw new Error(`${where}: a Grafana variable the test does not know: ${expr}`);
  return out;
}

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ refId: string; expr: string }> }>;
  templating: { list: Array<{ name: string; query: { query: string } }> };
}
const dashboard = () => JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana/dashboards/sendonce.json'), 'utf8')) as Dashboard;

export function dashboardExpressions(): Expression[] {
  return dashboard().panels.flatMap((panel) =>
    panel.targets.map((t) => ({ source: `dashboard "${panel.title}" ${t.refId}`, expr: substitute(t.expr, panel.title) })),
  );
}

/** `label_values(metric, label)` variables: the metric and label each one lists. */
export function dashboardLabelVariables(): Array<{ name: string; metric: string; label: string }> {
  return dashboard().templating.list.map((v) => {
    const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.query.query);
    if (!m) throw new Error(`dashboard variable ${v.name}: unsupported query ${v.query.query}`);
    return { name: v.name, metric: m[1]!, label: m[2]! };
  });
}

export function alertExpressions(): Array<Expression & { alert: string }> {
  const file = parse(fs.readFileSync(path.join(DEPLOY, 'prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return file.groups.flatMap((g) => g.rules.map((r) => ({ alert: r.alert, source: `alert ${r.alert}`, expr: r.expr })));
}
