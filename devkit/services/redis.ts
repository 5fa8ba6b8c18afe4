import { spawn, type ChildProcess } from 'node:child_process';
import { waitForPort } from './ports';
import { stopChild } from './processes';

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
  try {
    await Promise.race([waitForPort(port, 'redis-server'), exited]);
  } catch (err) {
    await stopChild(child, 2_000); // it may be running but not listening: nobody else would stop it
    throw err;
  } finally {
    exited.catch(() => undefined);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopChild(child),
  };
}
