/**
 * Run one baseline in a child process (so its peak RSS and CPU are its own): fork `script --child` with
 * `env`, wait for the JSON result it sends over IPC, sample its RSS meanwhile.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { stops } from './services';
import { ownCpuSeconds, rssSampler, statusField } from './measure';
import { stopChild } from '../../devkit/services/processes';

export interface ChildRun<T> {
  result: T;
  peakRssBytes: number;
  /** CPU seconds the child used (start-up included), read just before it exits. */
  cpuSeconds: number;
}

export async function runChild<T>(script: string, env: Record<string, string>, onStart?: (pid: number) => void): Promise<ChildRun<T>> {
  const child = fork(script, ['--child'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  stops.push(`${path.basename(script)} child`, () => stopChild(child, 5_000));
  onStart?.(child.pid!);
  const rss = rssSampler(child.pid!);
  try {
    const result = await new Promise<T>((resolve, reject) => {
      child.once('message', (m) => {
        const r = m as { ok: boolean; result?: T; error?: string };
        if (r.ok) resolve(r.result as T);
        else reject(new Error(r.error));
      });
      child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) without a result`)));
    });
    const hwm = statusField(child.pid!, 'VmHWM') ?? 0;
    return { result, peakRssBytes: Math.max(hwm, rss.peak()), cpuSeconds: ownCpuSeconds(child.pid!) };
  } finally {
    rss.stop();
    child.send?.('exit');
    await stopChild(child, 5_000);
  }
}

/** Child side: run `main`, send its result (or error) to the parent, then wait to be told to exit. */
export function childMain<T>(main: () => Promise<T>): void {
  main().then(
    (result) => process.send!({ ok: true, result }),
    (err: Error) => process.send!({ ok: false, error: err.stack ?? String(err) }),
  );
  process.on('message', (m) => {
    if (m === 'exit') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}
