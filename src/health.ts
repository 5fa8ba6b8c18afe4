/**
 * Liveness and readiness for compose, Kubernetes or any process manager, on HEALTH_PORT:
 *   GET /healthz  200 while the process serves HTTP (liveness: restart only when this fails)
 *   GET /readyz   200 when the Temporal worker is RUNNING and Postgres answers `SELECT 1` within 2 s,
 *                 503 otherwise (starting, draining after SIGTERM, database down) — with the reasons as JSON.
 * Redis and SMTP are left out on purpose: a tick with Redis down is skipped by design (LOCK_UNAVAILABLE) and
 * SMTP failures are retried and counted; neither should take the worker out of rotation or restart it.
 */
import http from 'node:http';
import type { Pool } from 'pg';
import { listen } from './http-listen';

export interface ReadinessChecks {
  /** The Temporal worker's state ('RUNNING', 'STOPPING', …), or 'INITIALIZED' before it exists. */
  workerState(): string;
  pool: Pool;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

const DB_CHECK_TIMEOUT_MS = 2_000;

export async function readiness(checks: ReadinessChecks): Promise<{ ready: boolean; worker: string; database: string }> {
  const worker = checks.workerState();
  let database = 'ok';
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      checks.pool.query('SELECT 1'),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), DB_CHECK_TIMEOUT_MS))),
    ]);
  } catch (err) {
    database = `unavailable: ${(err as Error).message}`.replace(/\/\/[^@\s]*@/g, '//***@');
  } finally {
    clearTimeout(timer);
  }
  return { ready: worker === 'RUNNING' && database === 'ok', worker, database };
}

export async function startHealthServer(port: number, checks: ReadinessChecks, host = '0.0.0.0'): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: 'method not allowed' });
    if (req.url === '/healthz') return reply(200, { status: 'ok' });
    if (req.url === '/readyz') {
      void readiness(checks).then(
        (r) => reply(r.ready ? 200 : 503, r),
        (err: Error) => reply(503, { ready: false, error: err.message }),
      );
      return;
    }
    reply(404, { error: 'not found' });
  });
  return listen(server, port, host);
}
