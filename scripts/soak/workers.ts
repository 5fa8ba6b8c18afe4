/**
 * The soak's worker processes, kept the way a process supervisor (systemd, Kubernetes) keeps them: a worker that
 * dies is started again with the same code, so runs pinned to its version can finish; the pool keeps `size`
 * workers of the current version alive. A deploy starts the other version's workers, promotes it, and retires
 * the old version's workers once no run is open on it (Worker Versioning: runs in flight stay on their version).
 */
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { deployStatus, promoteVersion } from '../../src/api';
import { buildIdOf } from '../../src/worker-versioning/options';
import type { WorkerProcess } from '../../devkit/worker-process';

export interface PoolWorker {
  n: number;
  proc: WorkerProcess;
  bundlePath: string;
  /** Paused by the nemesis (SIGSTOP): alive, not to be replaced. */
  paused: boolean;
  /** Stopped on purpose (retired after a deploy, or a skewed-clock worker's time is up): not replaced. */
  retired: boolean;
}

export interface WorkerPoolOptions {
  size: number;
  /** The two versions a deploy alternates between (version 1 first). */
  bundles: [string, string];
  deploymentName: string;
  client: Client;
  start(env: Record<string, string>): Promise<WorkerProcess>;
  note(line: string): void;
}

export class WorkerPool {
  readonly workers: PoolWorker[] = [];
  private current: string;
  private count = 0;
  private supervising: NodeJS.Timeout | undefined;
  private repairing: Promise<void> | undefined;
  /** Versions no longer current; `idleSince`: when deploy status first showed no open run on it (since then, always none). */
  private draining: Array<{ buildId: string; bundlePath: string; idleSince?: number }> = [];
  private readonly buildOf = new Map<string, string>();
  /** Versions found with open runs and no worker (each time, one worker of it started again). */
  orphanedVersions = 0;
  private lastStatusAt = 0;
  /** Workers started again after they died (the supervisor's recoveries). */
  restarts = 0;

  constructor(private readonly o: WorkerPoolOptions) {
    this.current = o.bundles[0];
  }

  /** The bundle (version) new workers run. */
  get currentBundle(): string {
    return this.current;
  }

  async fill(): Promise<void> {
    while (this.live(this.current).length < this.o.size) await this.add(this.current);
  }

  /** Every second: replace dead workers, retire drained versions. */
  supervise(): void {
    this.supervising = setInterval(() => {
      this.repairing ??= this.repair()
        .catch((err: Error) => this.o.note(`supervisor: ${err.message}`))
        .finally(() => (this.repairing = undefined));
    }, 1_000);
  }

  async stopSupervising(): Promise<void> {
    clearInterval(this.supervising);
    await this.repairing;
  }

  alive(): PoolWorker[] {
    return this.workers.filter((w) => !w.retired && w.proc.child.exitCode === null && w.proc.child.signalCode === null);
  }

  /** A live, running (not paused) worker chosen by `rng`, if any. */
  pick(rng: () => number): PoolWorker | undefined {
    const candidates = this.alive().filter((w) => !w.paused);
    return candidates[Math.floor(rng() * candidates.length)];
  }

  async add(bundlePath: string, extraEnv: Record<string, string> = {}): Promise<PoolWorker> {
    const proc = await this.o.start({ WORKFLOW_BUNDLE_PATH: bundlePath, ...extraEnv });
    const worker: PoolWorker = { n: ++this.count, proc, bundlePath, paused: false, retired: false };
    this.workers.push(worker);
    return worker;
  }

  async retire(worker: PoolWorker): Promise<void> {
    worker.retired = true;
    worker.proc.child.kill('SIGCONT');
    await worker.proc.stop().catch(() => undefined);
  }

  /**
   * A release of the other version: its workers start next to the current ones, it is promoted (new runs go to
   * it), and the old version's workers are retired by the supervisor once no run is open on it.
   */
  async deploy(): Promise<string> {
    const from = this.current;
    const to = this.o.bundles[0] === from ? this.o.bundles[1] : this.o.bundles[0];
    const toBuild = this.buildIdOf(to);
    const started: PoolWorker[] = [];
    for (let i = 0; i < this.o.size; i++) started.push(await this.add(to));
    // Promotion needs Temporal: through one of the nemesis' restarts, it is tried again for up to 90 s.
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        const promoted = await promoteVersion(this.o.client, this.o.deploymentName, toBuild);
        this.current = to;
        if (promoted.previous) this.draining.push({ buildId: promoted.previous, bundlePath: from });
        return `${promoted.previous ?? 'unversioned'} → ${promoted.current}`;
      } catch (err) {
        if (Date.now() > deadline) {
          for (const w of started) await this.retire(w); // the release is called off
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** SIGCONT every worker and stop them all gracefully (in-flight attempts finish first). */
  async stopAll(): Promise<void> {
    await this.stopSupervising();
    for (const w of this.workers) {
      w.proc.child.kill('SIGCONT');
      await w.proc.stop().catch(() => undefined);
    }
  }

  private live(bundlePath: string): PoolWorker[] {
    return this.alive().filter((w) => w.bundlePath === bundlePath);
  }

  private async repair(): Promise<void> {
    for (const w of this.workers) {
      if (w.retired || w.proc.child.exitCode === null && w.proc.child.signalCode === null) continue;
      w.retired = true; // replaced below (or not needed any more)
      const draining = this.draining.some((d) => d.bundlePath === w.bundlePath);
      if (w.bundlePath === this.current || draining) {
        await this.add(w.bundlePath);
        this.restarts++;
      }
    }
    await this.fill();
    await this.retireDrained();
  }

  private buildIdOf(bundlePath: string): string {
    if (!this.buildOf.has(bundlePath)) this.buildOf.set(bundlePath, buildIdOf(fs.readFileSync(bundlePath)));
    return this.buildOf.get(bundlePath)!;
  }

  /**
   * A version is retired once deploy status has shown no open run on it for 10 s (visibility can lag a run that
   * started just before the promotion). And whatever the cause, a version with open runs and no worker gets one
   * again, as an operator would start the old version's workers back. (The soak found `deploy status` counting 0
   * open runs while runs were open — the search attribute's format — and runs waiting for retired workers.)
   */
  private async retireDrained(): Promise<void> {
    // Visibility queries, one per version: every second only while a version drains, else every 10 s (orphans).
    if (this.draining.length === 0 && Date.now() - this.lastStatusAt < 10_000) return;
    this.lastStatusAt = Date.now();
    const status = await deployStatus(this.o.client, this.o.deploymentName);
    for (const bundlePath of this.o.bundles) {
      const open = status.openRuns[this.buildIdOf(bundlePath)] ?? 0;
      if (open > 0 && this.live(bundlePath).length === 0) {
        this.orphanedVersions++;
        this.o.note(`version ${this.buildIdOf(bundlePath)} had ${open} open run(s) and no worker: one started again`);
        if (bundlePath !== this.current && !this.draining.some((d) => d.bundlePath === bundlePath)) this.draining.push({ buildId: this.buildIdOf(bundlePath), bundlePath });
        await this.add(bundlePath);
      }
    }
    for (const d of [...this.draining]) {
      if (d.bundlePath === this.current) {
        this.draining = this.draining.filter((x) => x !== d); // deployed back before it drained: current again
        continue;
      }
      if ((status.openRuns[d.buildId] ?? 0) > 0) {
        d.idleSince = undefined;
        continue;
      }
      d.idleSince ??= Date.now();
      if (Date.now() - d.idleSince < 10_000) continue;
      this.draining = this.draining.filter((x) => x !== d);
      for (const w of this.live(d.bundlePath)) await this.retire(w);
      this.o.note(`version ${d.buildId} drained; its workers stopped`);
    }
  }
}
