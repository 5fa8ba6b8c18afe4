/**
 * Compose's network, mechanically mapped onto loopback: `<service>:<container port>` → `127.0.0.1:<free port>`,
 * a bare service name as a host → `127.0.0.1`, a port the process listens on → a free port of its own (each
 * replica gets its own), a path inside the image → the file here. A value still naming a compose service after the
 * rewrite fails the rehearsal: the compose file gained a connection the rehearsal does not understand.
 */
import net from 'node:net';
import { freePort } from '../../devkit/services/ports';

/**
 * A free port below 32768: Temporal stores membership ports in a smallint column (a kernel-picked ephemeral port,
 * 32768–60999, made the server exit with "value out of range for type smallint").
 */
export async function freeLowPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

export class Endpoints {
  /** service → container port → host port */
  private readonly map = new Map<string, Map<number, number>>();
  constructor(readonly services: readonly string[]) {}

  async add(serviceName: string, containerPort: number, options: { low?: boolean } = {}): Promise<number> {
    const ports = this.map.get(serviceName) ?? new Map<number, number>();
    this.map.set(serviceName, ports);
    const port = ports.get(containerPort) ?? (options.low ? await freeLowPort() : await freePort());
    ports.set(containerPort, port);
    return port;
  }

  port(serviceName: string, containerPort: number): number {
    const port = this.map.get(serviceName)?.get(containerPort);
    if (port === undefined) throw new Error(`nothing in the rehearsal listens for ${serviceName}:${containerPort} (docker-compose.yml refers to it)`);
    return port;
  }

  /** Every `service:port` inside a string (URL, address) rewritten to loopback. */
  rewriteText(value: string): string {
    let out = value;
    for (const name of this.services) {
      out = out.replace(new RegExp(`(^|[/@\\s"'])${name}:(\\d+)`, 'g'), (_m, lead: string, p: string) => `${lead}127.0.0.1:${this.port(name, Number(p))}`);
    }
    return out;
  }
}

/** Variables that hold a host and the variable holding its port (the port is a container port of that service). */
const PORT_PARTNERS: Record<string, string> = { SMTP_HOST: 'SMTP_PORT', POSTGRES_SEEDS: 'DB_PORT' };

export interface RewriteOptions {
  /** container port → host port for what this process itself listens on (METRICS_PORT, …). */
  listen?: Record<string, number>;
  /** Container path prefixes → host paths (`/app` → the unpacked image). */
  paths?: Array<[string, string]>;
  /** Exact overrides with their reason, reported. */
  overrides?: Record<string, string>;
}

export function rewriteEnvironment(env: Record<string, string>, endpoints: Endpoints, o: RewriteOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(env)) {
    let value = endpoints.rewriteText(raw);
    // A bare service name as a host (SMTP_HOST=mail); a value such as LOCK_BACKEND=redis is not a host.
    if (endpoints.services.includes(raw) && /_(HOST|SEEDS|HOSTNAME)$/.test(key)) {
      value = '127.0.0.1';
      const partner = PORT_PARTNERS[key];
      if (!partner) throw new Error(`${key}=${raw} names a compose service; the rehearsal does not know which port goes with it`);
      out[partner] = String(endpoints.port(raw, Number(env[partner] ?? NaN)));
    }
    if (o.listen?.[key] !== undefined) value = String(o.listen[key]);
    for (const [from, to] of o.paths ?? []) if (value === from || value.startsWith(from + '/')) value = to + value.slice(from.length);
    if (!(key in out)) out[key] = value;
  }
  Object.assign(out, o.overrides);
  for (const [key, value] of Object.entries(out)) {
    for (const name of endpoints.services) {
      const asHost = new RegExp(`(//|@)${name}(:|/|$)|^${name}:\\d+`).test(value) || (/_(HOST|SEEDS|HOSTNAME)$/.test(key) && value === name);
      if (asHost) {
        throw new Error(`${key}=${value} still names the compose service '${name}' after the rewrite`);
      }
    }
  }
  return out;
}
