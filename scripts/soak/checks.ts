/**
 * The four invariants over the whole soak so far, per job (the chaos suite's checks, scripts/chaos/invariants.ts):
 * no duplicates and bounded attempts over every key, no overlap over every claim, nothing lost over the windows a
 * run completed (after the soak, over all of them). Plus: every run that ended has its ending recorded in
 * job_runs — none left `running`.
 */
import { resolveRetry } from '../../src/retry';
import { idempotencyKey } from '../../src/sends/key';
import { addressHash } from '../../src/suppressions/address-hash';
import type { SinkMessage } from '../../devkit/smtp-sink';
import { judgeInvariants, keyOf, readAround, readJobRecords, type Figures, type JobRecords } from '../chaos/invariants';
import { jobs, soakOnce } from './jobs';
import type { Ticker } from './ticker';
import type { SoakWorld } from './world';

export interface CheckResult {
  figures: Record<string, Figures>;
  violations: string[];
  /** Keys accounted for by a suppression (no row: the address bounced hard and is suppressed). */
  suppressedKeys: number;
  /** When the sink was read, before and after the database (the evidence of a failed check shows them). */
  reads: { sinkBefore: Date; sinkAfter: Date; messagesBefore: number; messagesAfter: number };
  /** Sends accepted between the two reads and read `sent` (InvariantResult.crossings), with when the sink took them. */
  crossings: Array<{ key: string; receivedAt: Date }>;
}

/**
 * `final`: the soak is over and settled — every key of every window must be accounted for. The sink is read
 * before and after every database read (SinkReads in scripts/chaos/invariants.ts): runs, duplicate triggers and
 * paused workers may still be sending while a check runs.
 */
export async function checkAll(world: SoakWorld, ticker: Ticker, final: boolean): Promise<CheckResult> {
  const expectations = jobs.map((job) => ({ job, ...keysOf(world, ticker, job.name, final) }));
  const { records: db, reads } = await readAround(() => world.sink.messages(), async () => {
    const records = new Map<string, JobRecords>();
    for (const job of jobs) records.set(job.name, await readJobRecords(world.pool, job.name));
    return { records, suppressedHashes: await addressSuppressions(world), leftRunning: await runsLeftRunning(world, ticker, final) };
  });
  const { records, suppressedHashes, leftRunning } = db;
  const before = messagesByTemplate(reads.before);
  const after = messagesByTemplate(reads.after);
  const figures: Record<string, Figures> = {};
  const violations: string[] = [];
  let suppressedKeys = 0;
  const crossings: CheckResult['crossings'] = [];
  for (const { job, expected, settled, addressOf } of expectations) {
    const suppressed = new Set([...settled].filter((k) => suppressedHashes.has(addressHash(addressOf.get(k)!))));
    const retry = resolveRetry(job);
    const sink = { before: before.get(job.template) ?? [], after: after.get(job.template) ?? [] };
    const r = judgeInvariants({ name: job.name, maximumAttempts: retry.maximumAttempts, resendOnce: job.unknownPolicy === 'resend-once' }, expected, records.get(job.name)!, sink, { settled, suppressed });
    figures[job.name] = r.figures;
    violations.push(...r.violations.map((v) => `${job.name}: ${v}`));
    for (const key of r.crossings) crossings.push({ key, receivedAt: sink.after.find((m) => keyOf(m) === key)!.receivedAt });
    suppressedKeys += suppressed.size;
  }
  violations.push(...leftRunning);
  return {
    figures,
    violations,
    suppressedKeys,
    reads: { sinkBefore: reads.beforeAt, sinkAfter: reads.afterAt, messagesBefore: reads.before.length, messagesAfter: reads.after.length },
    crossings,
  };
}

function keysOf(world: SoakWorld, ticker: Ticker, jobName: string, final: boolean): { expected: string[]; settled: Set<string>; addressOf: Map<string, string> } {
  const addressOf = new Map<string, string>();
  const expected: string[] = [];
  const settled = new Set<string>();
  if (jobName === soakOnce.name) {
    const { all, settled: done } = ticker.oneOffs();
    const doneIds = new Set(done.map((r) => r.id));
    for (const row of all) {
      const key = idempotencyKey(soakOnce.template, row.id, 'once');
      addressOf.set(key, row.email);
      expected.push(key);
      if (final || doneIds.has(row.id)) settled.add(key);
    }
    return { expected, settled, addressOf };
  }
  const job = jobs.find((j) => j.name === jobName)!;
  const windows = ticker.windowsOf(jobName);
  for (const window of windows.all) {
    for (const u of world.users) {
      const key = idempotencyKey(job.template, u.id, window);
      addressOf.set(key, u.email);
      expected.push(key);
      if (final || windows.completed.has(window)) settled.add(key);
    }
  }
  return { expected, settled, addressOf };
}

async function addressSuppressions(world: SoakWorld): Promise<Set<string>> {
  const { rows } = await world.pool.query<{ h: string }>(`SELECT address_hash AS h FROM sendonce.suppressions WHERE scope = 'address'`);
  return new Set(rows.map((r) => r.h));
}

/** Runs that ended (a result came back) whose job_runs row still says running; at the end, any running row. */
async function runsLeftRunning(world: SoakWorld, ticker: Ticker, final: boolean): Promise<string[]> {
  const ended = ticker.runs.filter((r) => r.workflowId && r.outcome !== 'stuck').map((r) => r.workflowId);
  const { rows } = await world.pool.query<{ workflow_id: string }>(
    `SELECT workflow_id FROM sendonce.job_runs WHERE outcome = 'running' AND ($2 OR workflow_id = ANY($1::text[]))`,
    [ended, final],
  );
  return rows.map((r) => `run ${r.workflow_id} ended but job_runs still says running`);
}

/** One pass over the sink's messages: each job's share, by the template in its key (`email:{template}:…`). */
function messagesByTemplate(messages: readonly SinkMessage[]): Map<string, SinkMessage[]> {
  const out = new Map<string, SinkMessage[]>();
  for (const m of messages) {
    const template = keyOf(m)?.split(':')[1] ?? '';
    const list = out.get(template);
    if (list) list.push(m);
    else out.set(template, [m]);
  }
  return out;
}
