/**
 * The soak's nemesis: every fault kind of the chaos suite, injected at seeded random moments with recovery in
 * between, in two lanes that run side by side —
 *  - the SMTP lane: a 421 storm, 550 for bouncing mailboxes, DATA stored then the connection cut, the server
 *    down; each for 0.3–2.5 s, then the server behaves again;
 *  - the infrastructure lane: a worker SIGKILLed (the supervisor starts it again) or SIGSTOPped for 2–30 s
 *    (past the 10 s lock TTL or not), the whole pool frozen past the lock TTL while a second trigger takes the
 *    lock (the zombie lock holder of chaos scenario 5), Postgres stopped in immediate mode, redis-server killed (no persistence:
 *    the lock is gone), the Temporal dev server killed — each started again 0.3–3 s later —, a duplicate trigger
 *    of a tick in flight, a backfill of a completed window, a worker with a skewed clock (libfaketime) for 3–10 s, and a
 *    deploy of the other version (Worker Versioning); one time in four two of them at once.
 * Faults of the two lanes overlap freely: every pair of kinds active at the same moment is counted as a pair.
 *
 * SOAK_SEED replays the fault schedule (kinds, moments, durations); what each fault hits depends on timing.
 */
import fs from 'node:fs';
import { BOUNCING_ONE_OFF_DOMAIN, type Ticker } from './ticker';
import { BOUNCY_DOMAIN, type SoakWorld } from './world';
import { until } from '../chaos/scenario';
import { sleep } from '../chaos/stack';
import { INFRA_KINDS, SMTP_KINDS, WEIGHT, type FaultKind } from './faults';
import { zombieHolder } from './zombie';

export type { FaultKind } from './faults';


export interface Injection {
  kind: FaultKind;
  startedAt: number;
  endedAt?: number;
  /** What it did ("worker 3", "down 1.2 s", "sent 0"). */
  detail?: string;
  /** Messages or RCPTs the SMTP fault answered badly (undefined for other kinds). */
  hits?: number;
  /** The service or process is back (or the fault needed no recovery). */
  recovered: boolean;
  error?: string;
}

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) => fs.existsSync(p));

export class Nemesis {
  readonly injections: Injection[] = [];
  private running = true;
  private readonly smtp = { storm: 0, bounce: 0, drop: 0, hits: new Map<FaultKind, number>() };
  private lanes: Array<Promise<void>> = [];

  constructor(
    private readonly world: SoakWorld,
    private readonly ticker: Ticker,
    private readonly rng: () => number,
    /** Per-message choices (which cut message): a stream of its own, so the schedule replays from the seed. */
    private readonly messageRng: () => number,
  ) {}

  start(): void {
    this.installSinkRules();
    this.lanes = [this.lane([...SMTP_KINDS], 100, 800, 0.1), this.lane(INFRA_KINDS.filter((k) => k !== 'clock-skew' || LIBFAKETIME), 2_000, 6_000, 0.25)];
  }

  /** Stop injecting; resolves when every fault in progress has recovered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }

  private async lane(kinds: FaultKind[], minGapMs: number, maxGapMs: number, pairChance: number): Promise<void> {
    while (this.running) {
      await sleep(minGapMs + this.rng() * (maxGapMs - minGapMs));
      if (!this.running) break;
      const first = this.pick(kinds);
      const both = this.rng() < pairChance ? [first, this.pick(kinds.filter((k) => k !== first))] : [first];
      await Promise.all(both.map((kind) => this.inject(kind)));
    }
  }

  private pick(kinds: FaultKind[]): FaultKind {
    const total = kinds.reduce((s, k) => s + WEIGHT[k], 0);
    let x = this.rng() * total;
    for (const k of kinds) if ((x -= WEIGHT[k]) < 0) return k;
    return kinds[kinds.length - 1]!;
  }

  private async inject(kind: FaultKind): Promise<void> {
    const injection: Injection = { kind, startedAt: Date.now(), recovered: false };
    this.injections.push(injection);
    const hitsBefore = this.smtp.hits.get(kind) ?? 0;
    try {
      injection.detail = await this.act(kind);
      injection.recovered = true;
    } catch (err) {
      injection.error = (err as Error).message.split('\n')[0];
    } finally {
      injection.endedAt = Date.now();
      if (kind !== 'smtp-down' && (SMTP_KINDS as readonly string[]).includes(kind)) injection.hits = (this.smtp.hits.get(kind) ?? 0) - hitsBefore;
    }
  }

  private duration(min: number, max: number): number {
    return Math.round(min + this.rng() * (max - min));
  }

  private async act(kind: FaultKind): Promise<string> {
    const { world } = this;
    const faults = world.services.faults;
    switch (kind) {
      case 'smtp-421-storm':
        return this.during('storm', this.duration(300, 2_500));
      case 'smtp-550':
        return this.during('bounce', this.duration(300, 2_500));
      case 'smtp-drop-after-data':
        return this.during('drop', this.duration(300, 2_500));
      case 'smtp-down': {
        const ms = this.duration(300, 2_500);
        await world.sink.stop();
        await sleep(ms);
        await world.sink.start();
        return `down ${ms} ms`;
      }
      case 'worker-sigkill': {
        const w = world.workers.pick(this.rng);
        if (!w) return 'no running worker';
        w.proc.child.kill('SIGKILL');
        await w.proc.exited;
        await until(() => world.workers.alive().filter((x) => !x.paused).length > 0, 'a running worker again', 60_000);
        return `worker ${w.n}`;
      }
      case 'worker-pause': {
        const w = world.workers.pick(this.rng);
        if (!w) return 'no running worker';
        // Half of them outlast the lock TTL (10 s) and the end of the run: the next tick's run holds the lock when the
        // worker resumes with sends still queued — the zombie the fence is there for.
        const ms = this.duration(2_000, 30_000);
        w.paused = true;
        w.proc.child.kill('SIGSTOP');
        await sleep(ms);
        w.proc.child.kill('SIGCONT');
        w.paused = false;
        return `worker ${w.n} for ${ms} ms`;
      }
      case 'zombie-holder':
        return zombieHolder(this.world, this.ticker);
      case 'postgres-restart': {
        const ms = this.duration(300, 3_000);
        await faults.restartPostgres(ms);
        return `down ${ms} ms`;
      }
      case 'redis-restart': {
        const ms = this.duration(300, 3_000);
        await faults.killRedis();
        await sleep(ms);
        await faults.startRedis();
        return `down ${ms} ms`;
      }
      case 'temporal-restart': {
        const ms = this.duration(300, 3_000);
        await faults.restartTemporal(ms);
        return `down ${ms} ms`;
      }
      case 'duplicate-trigger':
        return this.ticker.duplicate();
      case 'backfill':
        return this.ticker.backfill();
      case 'clock-skew': {
        const skewS = (this.rng() < 0.5 ? -1 : 1) * this.duration(30, 600);
        const ms = this.duration(3_000, 10_000);
        // Only the wall clock: Temporal's core measures timeouts on the monotonic clock.
        const w = await world.workers.add(world.workers.currentBundle, {
          LD_PRELOAD: LIBFAKETIME!,
          FAKETIME: `${skewS >= 0 ? '+' : ''}${skewS}`, // seconds
          FAKETIME_DONT_FAKE_MONOTONIC: '1',
        });
        await sleep(ms);
        await world.workers.retire(w);
        return `worker ${w.n} with its clock ${skewS} s off for ${ms} ms`;
      }
      case 'deploy':
        return world.workers.deploy();
    }
  }

  /** An SMTP misbehaviour for `ms` (the sink rules read these counters: two of a kind may overlap). */
  private async during(which: 'storm' | 'bounce' | 'drop', ms: number): Promise<string> {
    this.smtp[which]++;
    try {
      await sleep(ms);
    } finally {
      this.smtp[which]--;
    }
    return `${ms} ms`;
  }

  private hit(kind: FaultKind): void {
    this.smtp.hits.set(kind, (this.smtp.hits.get(kind) ?? 0) + 1);
  }

  private installSinkRules(): void {
    const { sink } = this.world;
    const bounces = (address: string) => address.endsWith(`@${BOUNCY_DOMAIN}`) || address.endsWith(`@${BOUNCING_ONE_OFF_DOMAIN}`);
    sink.rejectRcpt((address) => {
      if (this.smtp.storm > 0) {
        this.hit('smtp-421-storm');
        return { code: 421, message: '4.3.2 Service shutting down, try later' };
      }
      if (this.smtp.bounce > 0 && bounces(address)) {
        this.hit('smtp-550');
        return { code: 550, message: '5.1.1 No such user' };
      }
      return undefined;
    });
    sink.onData(() => {
      if (this.smtp.drop > 0 && this.messageRng() < 0.3) {
        this.hit('smtp-drop-after-data');
        return 'store-then-drop';
      }
      return { delayMs: 10 };
    });
  }
}
