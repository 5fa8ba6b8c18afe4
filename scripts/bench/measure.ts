/**
 * What the benchmark measures besides the clock: CPU time per process tree and peak RSS (from /proc),
 * Postgres statements (pg_stat_statements) and transactions (pg_stat_database), Redis commands (INFO).
 */
import fs from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';

const TICK = 100; // USER_HZ on Linux

function readStat(pid: number): { ppid: number; cpu: number; cpuWithReaped: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return {
      ppid: Number(rest[1]),
      cpu: (Number(rest[11]) + Number(rest[12])) / TICK,
      // plus exited children the process has reaped (Postgres backends of closed connections)
      cpuWithReaped: (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / TICK,
    };
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants (Postgres backends are children of the postmaster). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(name));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/**
 * CPU seconds (user+system) used so far by a process tree: every live process, plus the children each has
 * reaped (a child is either alive and counted itself, or reaped and counted in its parent's cutime/cstime).
 */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + (readStat(p)?.cpuWithReaped ?? 0), 0);
}

export function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples VmRSS every 200 ms; peak() also consults VmHWM (the kernel's own high-water mark). */
export function rssSampler(pid: number): { peak(): number; stop(): void; timeline(): number[] } {
  let peak = statusField(pid, 'VmRSS') ?? 0;
  const perSecond: number[] = [];
  let n = 0;
  const timer = setInterval(() => {
    const rss = statusField(pid, 'VmRSS') ?? 0;
    peak = Math.max(peak, rss);
    if (n++ % 5 === 0) perSecond.push(rss);
  }, 200);
  timer.unref();
  return {
    peak: () => peak,
    stop: () => clearInterval(timer),
    /** VmRSS once a second, for seeing whether memory grows during a tick. */
    timeline: () => perSecond,
  };
}

/** CPU seconds of one process only (not its children). */
export function ownCpuSeconds(pid: number): number {
  return readStat(pid)?.cpu ?? 0;
}

export interface Watched {
  pid: number;
  /** Count the process's descendants too (Postgres backends under the postmaster). */
  tree: boolean;
}

/** CPU seconds of several named processes between creation and stop(). */
export function cpuMeter(pids: Record<string, Watched>): { stop(): Record<string, number> } {
  const read = (w: Watched) => (w.tree ? treeCpuSeconds(w.pid) : ownCpuSeconds(w.pid));
  const before = Object.fromEntries(Object.entries(pids).map(([k, w]) => [k, read(w)]));
  return {
    stop: () => Object.fromEntries(Object.entries(pids).map(([k, w]) => [k, read(w) - before[k]!])),
  };
}

export interface Counters {
  pgStatements: number;
  pgTransactions: number;
  redisCommands: number;
}

/** Statement and transaction counts for one database, Redis commands for the whole server. */
export class CounterReader {
  private constructor(
    private readonly admin: pg.Client,
    private readonly redis: Redis,
  ) {}

  static async open(pgAdminUrl: string, redisUrl: string): Promise<CounterReader> {
    const admin = new pg.Client({ connectionString: pgAdminUrl });
    await admin.connect();
    admin.on('error', () => undefined);
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await redis.connect();
    return new CounterReader(admin, redis);
  }

  async read(database: string): Promise<Counters> {
    // pg_stat_database is updated by backends at transaction end, with up to a second of delay.
    await new Promise((r) => setTimeout(r, 1200));
    const st = await this.admin.query<{ calls: string | null }>(
      `SELECT sum(calls)::text AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`,
      [database],
    );
    const tx = await this.admin.query<{ n: string }>(
      `SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = $1`,
      [database],
    );
    const info = await this.redis.info('stats');
    const m = info.match(/total_commands_processed:(\d+)/);
    return {
      pgStatements: Number(st.rows[0]?.calls ?? 0),
      pgTransactions: Number(tx.rows[0]?.n ?? 0),
      // minus the INFO command this read itself sends (counted when it runs)
      redisCommands: m ? Number(m[1]) : 0,
    };
  }

  static delta(a: Counters, b: Counters): Counters {
    return {
      pgStatements: b.pgStatements - a.pgStatements,
      pgTransactions: b.pgTransactions - a.pgTransactions,
      // each read() sends one INFO: the later one is counted in b
      redisCommands: b.redisCommands - a.redisCommands - 1,
    };
  }

  async close(): Promise<void> {
    await this.admin.end().catch(() => undefined);
    this.redis.disconnect();
  }
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}
