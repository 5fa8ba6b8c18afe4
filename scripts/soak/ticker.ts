/**
 * The soak's ticks, as the Schedules would start them: each tick starts one run per job, all at once. Each
 * recurring job works through daily windows (2031-01-01, 2031-01-02, …): its ticks stay in a window until a run
 * completes it — the next tick of the same day in production — then move to the next day; a one-tick job
 * (soak-daily) moves to the next day at every tick, and only the window keeper's follow-ups finish its windows (its
 * completed windows are read from the window ledger). Each tick also adds a
 * few one-off emails due at its time (fresh addresses, some of them at a bouncing domain), sent by the one-off
 * job's run of that tick. The nemesis adds duplicate triggers and backfills of completed windows through here.
 *
 * After every tick the four invariants are checked over everything so far (checks.ts).
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { RunSummary } from '../../src/contract';
import { scheduleEmail } from '../../src/api/scheduled-emails';
import { createJobRegistry, type JobDefinition } from '../../src/jobs';
import type { Pool } from '../../src/db/pool';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { sleep } from '../chaos/stack';
import { oneTickJobs, jobs as soakJobs, recurringJobs, soakOnce, templates as soakTemplates } from './jobs';

export type RunKind = 'tick' | 'duplicate' | 'backfill' | 'settle';

export interface RunRecord {
  kind: RunKind;
  job: string;
  window: string;
  workflowId: string;
  /** The first run id of its chain: the `run_id` its claims carry ('' when it never started). */
  runId: string;
  /** The summary's outcome; 'stuck' when no result came within RUN_TIMEOUT_MS (then terminated); 'start-failed'. */
  outcome: string;
  reason?: string;
  sent: number;
  startedAt: Date;
  endedAt: Date;
}

interface Timeline {
  job: JobDefinition;
  day: number;
  /** Ticks spent in the current window (each one a later time of the same day). */
  ticksInWindow: number;
  windows: string[];
  completed: Set<string>;
  /** Every tick a new window (soak-daily): follow-up runs of the keeper finish them, not more ticks. */
  oneTick: boolean;
}

export interface OneOffRow {
  id: string;
  email: string;
  dueAt: Date;
}

const FIRST_DAY = Date.parse('2031-01-01T00:00:00Z');
const DAY_MS = 86_400_000;
const ONE_OFF_START = Date.parse('2031-01-01T00:00:00Z');
const RUN_TIMEOUT_MS = Number(process.env.SOAK_RUN_TIMEOUT_MS ?? 300_000);
export const BOUNCING_ONE_OFF_DOMAIN = 'bounce.once.soak.test';

export class Ticker {
  readonly runs: RunRecord[] = [];
  readonly oneOffRows: OneOffRow[] = [];
  ticks = 0;
  private readonly timelines: Timeline[];
  private oneOffAt = ONE_OFF_START;
  private oneOffCompletedAt = 0;
  private readonly inFlight: Array<{ job: JobDefinition; scheduledAt: string }> = [];
  private readonly registry = createJobRegistry(soakJobs, soakTemplates);

  constructor(
    private readonly client: Client,
    private readonly pool: Pool,
    private readonly taskQueue: string,
    private readonly rng: () => number,
    private readonly violation: (line: string) => void,
  ) {
    this.timelines = recurringJobs.map((job) => ({ job, day: 0, ticksInWindow: 0, windows: [], completed: new Set(), oneTick: oneTickJobs.includes(job) }));
  }

  /** One tick: a run of every job, all at once; resolves when every run has ended. */
  async tick(): Promise<void> {
    this.ticks++;
    const runs: Array<Promise<RunRecord>> = [];
    for (const t of this.timelines) {
      const scheduledAt = new Date(FIRST_DAY + t.day * DAY_MS + 10 * 3_600_000 + t.ticksInWindow * 300_000).toISOString();
      if (t.oneTick) t.day++;
      else t.ticksInWindow++;
      const window = scheduledAt.slice(0, 10);
      if (!t.windows.includes(window)) t.windows.push(window);
      runs.push(this.run('tick', t.job, scheduledAt));
    }
    this.oneOffAt += 60_000;
    await this.scheduleOneOffs(new Date(this.oneOffAt));
    runs.push(this.run('tick', soakOnce, new Date(this.oneOffAt).toISOString()));
    await Promise.all(runs);
    await this.readLedger();
  }

  /** One-tick jobs: the windows the ledger says are complete (finished by a tick's run or by follow-ups). */
  private async readLedger(): Promise<void> {
    for (const t of this.timelines.filter((x) => x.oneTick)) {
      const { rows } = await retrying(() => this.pool.query<{ window_key: string }>(`SELECT window_key FROM sendonce.job_windows WHERE job_name = $1 AND state = 'complete'`, [t.job.name]));
      for (const r of rows) t.completed.add(r.window_key);
    }
  }

  /** A second trigger of a tick in flight (a manual trigger, a retried API call): it must send nothing twice. */
  async duplicate(target = this.inFlight[Math.floor(this.rng() * this.inFlight.length)]): Promise<string> {
    if (!target) return 'no tick in flight';
    const r = await this.run('duplicate', target.job, target.scheduledAt);
    return `${r.job} ${r.window}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}, sent ${r.sent}`;
  }

  /** A recurring job's tick in flight (its run is sending, or about to), chosen by the ticker's rng. */
  recurringTickInFlight(): { job: JobDefinition; scheduledAt: string } | undefined {
    const ticks = this.inFlight.filter((t) => t.job.kind !== 'one-off');
    return ticks[Math.floor(this.rng() * ticks.length)];
  }

  /** Someone backfills a window a run already completed: everyone is accounted for, so nothing may be sent. */
  async backfill(): Promise<string> {
    const candidates = this.timelines.flatMap((t) => [...t.completed].map((window) => ({ t, window })));
    const pick = candidates[Math.floor(this.rng() * candidates.length)];
    if (!pick) return 'no completed window yet';
    const r = await this.run('backfill', pick.t.job, `${pick.window}T23:00:00.000Z`);
    if (r.sent > 0) this.violation(`backfill of completed window ${r.window} of ${r.job} sent ${r.sent} email(s)`);
    return `${r.job} ${r.window}: ${r.outcome}, sent ${r.sent}`;
  }

  /** After the nemesis stops: tick every job whose window is not completed yet until it is (at most `max` each). */
  async settle(max = 5): Promise<void> {
    // One-tick jobs get no settling ticks: their windows are finished by the keeper's follow-ups, or never.
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    await this.readLedger();
    while (this.timelines.some((t) => t.oneTick && t.windows.some((w) => !t.completed.has(w))) && Date.now() < deadline) {
      await sleep(2_000);
      await this.readLedger();
    }
    for (const t of this.timelines.filter((x) => !x.oneTick)) {
      for (let i = 0; i < max && !t.completed.has(t.windows.at(-1) ?? ''); i++) {
        const window = t.windows.at(-1)!;
        await this.run('settle', t.job, new Date(Date.parse(`${window}T10:00:00Z`) + t.ticksInWindow++ * 300_000).toISOString());
      }
    }
    for (let i = 0; i < max && this.oneOffCompletedAt < this.oneOffAt; i++) {
      await this.run('settle', soakOnce, new Date(this.oneOffAt).toISOString());
    }
    // Follow-up runs the keeper started (not the ticker's) end too before the final check reads job_runs.
    while (Date.now() < deadline) {
      const { rows } = await retrying(() => this.pool.query(`SELECT 1 FROM sendonce.job_runs WHERE outcome = 'running' LIMIT 1`));
      if (rows.length === 0) break;
      await sleep(1_000);
    }
  }

  /** Windows ticked so far, and those a run completed, per recurring job. */
  windowsOf(jobName: string): { all: string[]; completed: ReadonlySet<string> } {
    const t = this.timelines.find((x) => x.job.name === jobName)!;
    return { all: t.windows, completed: t.completed };
  }

  /** One-off rows due by the last tick, and those due by the last tick whose one-off run completed. */
  oneOffs(): { all: OneOffRow[]; settled: OneOffRow[] } {
    return {
      all: this.oneOffRows.filter((r) => r.dueAt.getTime() <= this.oneOffAt),
      settled: this.oneOffRows.filter((r) => r.dueAt.getTime() <= this.oneOffCompletedAt),
    };
  }

  private async scheduleOneOffs(dueBy: Date): Promise<void> {
    const n = Math.floor(this.rng() * 5);
    for (let i = 0; i < n; i++) {
      const domain = this.rng() < 0.3 ? BOUNCING_ONE_OFF_DOMAIN : 'once.soak.test';
      const email = `${uniqueName('r')}@${domain}`;
      const dueAt = new Date(dueBy.getTime() - Math.floor(this.rng() * 50_000));
      const row = await retrying(() => scheduleEmail(this.pool, { to: email, template: soakOnce.template, values: { subject: 'Soak', body: 'A one-off email.' }, at: dueAt }, this.registry));
      this.oneOffRows.push({ id: row.id, email, dueAt });
    }
  }

  private async run(kind: RunKind, job: JobDefinition, scheduledAt: string): Promise<RunRecord> {
    const entry = { job, scheduledAt };
    this.inFlight.push(entry);
    try {
      const record = await this.startAndWait(kind, job, scheduledAt);
      this.runs.push(record);
      if (record.outcome === 'completed') this.completed(job, record.window, scheduledAt);
      return record;
    } finally {
      this.inFlight.splice(this.inFlight.indexOf(entry), 1);
    }
  }

  private completed(job: JobDefinition, window: string, scheduledAt: string): void {
    if (job.kind === 'one-off') {
      this.oneOffCompletedAt = Math.max(this.oneOffCompletedAt, Date.parse(scheduledAt));
      return;
    }
    const t = this.timelines.find((x) => x.job.name === job.name)!;
    t.completed.add(window);
    if (window === t.windows.at(-1) && !t.oneTick) {
      t.day++;
      t.ticksInWindow = 0;
    }
  }

  private async startAndWait(kind: RunKind, job: JobDefinition, scheduledAt: string): Promise<RunRecord> {
    const window = job.kind === 'one-off' ? 'once' : scheduledAt.slice(0, 10);
    const startedAt = new Date();
    const base = { kind, job: job.name, window, sent: 0 };
    const ended = (r: Omit<RunRecord, 'startedAt' | 'endedAt'>): RunRecord => ({ ...r, startedAt, endedAt: new Date() });
    let handle;
    try {
      handle = await retrying(() => startBatchRun(this.client, { taskQueue: this.taskQueue, jobName: job.name, scheduledAt, workflowId: uniqueName(`${job.name}-${kind}`) }));
    } catch (err) {
      return ended({ ...base, workflowId: '', runId: '', outcome: 'start-failed', reason: (err as Error).message });
    }
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    for (;;) {
      try {
        const summary = (await handle.result()) as RunSummary;
        return ended({ ...base, workflowId: handle.workflowId, runId: handle.firstExecutionRunId, outcome: summary.outcome, reason: summary.reason, sent: summary.counts.sent });
      } catch (err) {
        if (err instanceof WorkflowFailedError) return ended({ ...base, workflowId: handle.workflowId, runId: handle.firstExecutionRunId, outcome: 'workflow-failed', reason: err.cause?.message ?? err.message });
        if (Date.now() > deadline) {
          await handle.terminate('soak: no result within the run timeout').catch(() => undefined);
          return ended({ ...base, workflowId: handle.workflowId, runId: handle.firstExecutionRunId, outcome: 'stuck', reason: `no result within ${RUN_TIMEOUT_MS / 1000} s; terminated` });
        }
        await sleep(500); // Temporal is down (the nemesis): the client reconnects
      }
    }
  }
}

/** Retry through a service outage (a restarting Temporal or Postgres) for up to a minute. */
export async function retrying<T>(work: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}
