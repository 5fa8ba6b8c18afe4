/**
 * Programs of the rehearsal, run the way a container runs them where that matters:
 *  - `container: true`: the program runs in its own PID namespace (`unshare --pid --fork`, we run as root or map
 *    root in a user namespace), so it is PID 1 there exactly as in a container: the kernel drops every signal it has
 *    no handler for, also SIGTERM from `docker stop`. With the compose `init: true` the PID 1 is tini (Docker's
 *    init is tini too) and the program is its child.
 *  - `stop()` is `docker stop`: SIGTERM to PID 1, SIGKILL after the stop grace period.
 *  - the compose `restart:` policy is applied when the program exits without being stopped.
 * Every process gets its own process group; the stack stops them all, also when start-up fails half-way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ProgramSpec {
  name: string;
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  logFile: string;
  container?: boolean;
  init?: boolean;
  /** The image's USER, as uid/gid (only when the rehearsal runs as root: it can switch; otherwise it runs as itself). */
  user?: { uid: number; gid: number };
  restart?: string;
  stopGraceMs?: number;
}

export interface Program {
  readonly spec: ProgramSpec;
  /** Exit code (or 128 + signal) of the last run; undefined while running. */
  lastExit(): number | undefined;
  restarts(): number;
  running(): boolean;
  /** Resolves with the exit code of the current run. */
  exited(): Promise<number>;
  /** `docker stop`: SIGTERM to PID 1, SIGKILL after the grace period; no restart afterwards. */
  stop(graceMs?: number): Promise<{ code: number; ms: number; killed: boolean }>;
  /** `docker start` after a stop. */
  start(): void;
  /** Send a signal to PID 1 (the container's main process). */
  signal(sig: NodeJS.Signals): void;
  /** The host pid of its PID 1 while running. */
  pid(): number | undefined;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** The host pid of the namespace's PID 1: the one child of `unshare --fork`. */
function childPid(pid: number): number | undefined {
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

const asRoot = process.getuid?.() === 0;

export function startProgram(spec: ProgramSpec): Program {
  let child: ChildProcess | undefined;
  let exitCode: number | undefined;
  let exitWaiters: Array<(code: number) => void> = [];
  let stopped = false;
  let restarts = 0;
  let failures = 0;

  const launch = () => {
    exitCode = undefined;
    const log = fs.openSync(spec.logFile, 'a');
    let argv = spec.argv;
    if (spec.init) argv = ['tini', '-s', '--', ...argv];
    // setpriv execs what follows, so PID 1 is still tini (or the program), now as the image's user.
    if (spec.user && asRoot) argv = ['setpriv', '--reuid', String(spec.user.uid), '--regid', String(spec.user.gid), '--clear-groups', '--', ...argv];
    // --kill-child: when unshare itself dies, so does the namespace (nothing outlives the rehearsal).
    if (spec.container) argv = ['unshare', ...(asRoot ? [] : ['--user', '--map-root-user']), '--pid', '--fork', '--kill-child', '--', ...argv];
    const c = spawn(argv[0]!, argv.slice(1), { cwd: spec.cwd, env: spec.env, stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    child = c;
    c.once('error', (err) => fs.appendFileSync(spec.logFile, `[rehearse] could not start ${argv[0]}: ${err.message}\n`));
    c.once('exit', (code, signal) => {
      exitCode = code ?? 128 + (SIGNAL_NUMBERS[signal as NodeJS.Signals] ?? 1);
      const waiters = exitWaiters;
      exitWaiters = [];
      for (const w of waiters) w(exitCode);
      if (stopped) return;
      const policy = spec.restart ?? 'no';
      const onFailure = /^on-failure(?::(\d+))?$/.exec(policy);
      const again = policy === 'always' || policy === 'unless-stopped' || (onFailure && exitCode !== 0 && (!onFailure[1] || failures < Number(onFailure[1])));
      if (exitCode !== 0) failures++;
      if (again) {
        restarts++;
        fs.appendFileSync(spec.logFile, `[rehearse] exited ${exitCode}; restart policy ${policy}: restarting\n`);
        setTimeout(() => (stopped ? undefined : launch()), 1_000);
      }
    });
  };

  const pid1 = (): number | undefined => (child?.pid === undefined ? undefined : spec.container ? childPid(child.pid) : child.pid);

  const program: Program = {
    spec,
    lastExit: () => exitCode,
    pid: () => pid1(),
    restarts: () => restarts,
    running: () => child !== undefined && exitCode === undefined,
    exited: () => (exitCode !== undefined && child ? Promise.resolve(exitCode) : new Promise((r) => exitWaiters.push(r))),
    signal(sig) {
      const pid = pid1();
      if (pid !== undefined) process.kill(pid, sig);
    },
    async stop(graceMs = spec.stopGraceMs ?? 10_000) {
      stopped = true;
      const started = Date.now();
      if (!program.running()) return { code: exitCode ?? 0, ms: 0, killed: false };
      const done = program.exited();
      // PID 1 may not be there yet in the first milliseconds after unshare forks.
      for (let i = 0; i < 50 && pid1() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      try {
        program.signal('SIGTERM');
      } catch {
        /* gone already */
      }
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        try {
          process.kill(-child!.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      const code = await done;
      clearTimeout(timer);
      return { code, ms: Date.now() - started, killed };
    },
    start() {
      stopped = false;
      launch();
    },
  };
  launch();
  return program;
}

/** Last resort at exit: SIGKILL every process group we started that is still there. */
export function killGroup(program: Program): void {
  program.stop(0).catch(() => undefined);
}
