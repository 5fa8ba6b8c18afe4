/**
 * The real worker entry point (src/worker.ts) as a child process, for tests that kill, pause or signal it.
 * Configured only through the environment, exactly as in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { stopChild } from '../../devkit/services/redis';

export interface WorkerProcess {
  child: ChildProcess;
  /** Every JSON log line the worker printed so far (parsed). */
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first log line whose `msg` equals `msg` (and matches `where`, if given). */
  waitForLog(msg: string, where?: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote so far, stdout and stderr, unparsed (for "never printed" assertions). */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../..');

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; where?: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  let output = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
    output += c.toString();
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (line.msg === w.msg && (!w.where || w.where(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLog: WorkerProcess['waitForLog'] = (msg, where, timeoutMs = 60_000) => {
    const found = lines.find((l) => l.msg === msg && (!where || where(l)));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not log '${msg}' within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ msg, where, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (code ${code}, signal ${signal}) before logging '${msg}'; stderr: ${stderr}`));
      });
    });
  };
  const proc: WorkerProcess = { child, lines, waitForLog, exited, output: () => output, stop: () => stopChild(child, 15_000) };
  await waitForLog('worker_started');
  return proc;
}
