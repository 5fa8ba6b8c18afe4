import { spawn, type ChildProcess } from 'node:child_process';
import { waitForPort } from './ports';

export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start Debian's `redis-server` on 127.0.0.1 with no persistence (the fence lives in Postgres, so losing
 * Redis data on restart is a case we handle, not a risk we hide).
 */
export async function startRedisServer(port: number): Promise<RedisServerHandle> {
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`could not start redis-server: ${err.message} (run scripts/bootstrap.sh, or set REDIS_URL)`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} before listening on ${port}`)));
  });
  await Promise.race([waitForPort(port, 'redis-server'), exited]);
  exited.catch(() => undefined);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopChild(child),
  };
}

/** SIGTERM a child and wait for it; SIGKILL if it does not go within the grace time. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
