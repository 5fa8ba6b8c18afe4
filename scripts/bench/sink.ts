/**
 * The one SMTP sink every scenario sends to: devkit/smtp-sink.ts in counting mode (smtp-server, no
 * parsing, nothing kept), in its own process so its CPU is measured apart from the senders and the driver.
 * Run as a child (`sink.ts --child`); the parent side talks to it over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { stopChild } from '../../devkit/services/processes';
import { startSmtpSink } from '../../devkit/smtp-sink';

export interface SinkStats {
  count: number;
  /** Date.now() (ms) when the first message since the last reset arrived, or null. */
  firstAt: number | null;
  lastAt: number | null;
}

export interface SinkProcess {
  port: number;
  pid: number;
  stats(): Promise<SinkStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

type Msg = { id: number; op: 'stats' | 'reset' };

export async function startSinkProcess(): Promise<SinkProcess> {
  const child: ChildProcess = fork(__filename, ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`smtp sink exited with ${code}`)));
  });
  let seq = 0;
  const pending = new Map<number, (v: unknown) => void>();
  child.on('message', (m) => {
    const r = m as { id?: number; result?: unknown };
    if (r.id !== undefined) {
      pending.get(r.id)?.(r.result);
      pending.delete(r.id);
    }
  });
  const call = <T>(op: Msg['op']) =>
    new Promise<T>((resolve) => {
      const id = ++seq;
      pending.set(id, resolve as (v: unknown) => void);
      child.send({ id, op } satisfies Msg);
    });
  return {
    port,
    pid: child.pid!,
    stats: () => call<SinkStats>('stats'),
    reset: () => call<void>('reset'),
    stop: () => stopChild(child, 5_000),
  };
}

async function child(): Promise<void> {
  const sink = await startSmtpSink({ counting: true });
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  sink.onData(() => {
    const now = Date.now();
    firstAt ??= now;
    lastAt = now;
    return 'accept';
  });
  process.on('message', (m) => {
    const { id, op } = m as Msg;
    if (op === 'reset') {
      sink.clear();
      firstAt = null;
      lastAt = null;
      process.send!({ id, result: null });
    } else {
      process.send!({ id, result: { count: sink.count, firstAt, lastAt } satisfies SinkStats });
    }
  });
  process.on('SIGTERM', () => void sink.close().then(() => process.exit(0)));
  process.on('disconnect', () => void sink.close().then(() => process.exit(0)));
  process.send!({ port: sink.port });
}

if (process.argv.includes('--child')) void child();
