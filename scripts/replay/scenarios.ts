/**
 * The workflow paths whose histories the replay test keeps (test/replay/histories): each scenario drives one real
 * run to one ending and returns the run to record. A scenario's tick time gives it its own window.
 */
import type { Client } from '@temporalio/client';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { redriveDeadLetters, scheduleEmail } from '../../src/api';
import type { JobRegistry } from '../../src/jobs';
import { takeFence } from '../../src/lock/fence';
import { startBatchRun, type BatchRunHandle } from '../../devkit/runs';
import type { SmtpSink } from '../../devkit/smtp-sink';

export interface World {
  client: Client;
  taskQueue: string;
  pool: Pool;
  redis: Redis;
  keyPrefix: string;
  sink: SmtpSink;
  jobs: JobRegistry;
  smtpAuth: { user: string; pass: string };
}

/** The run to record: a workflow chain, from its first run. */
export interface Recorded {
  workflowId: string;
  firstRunId: string;
}

export interface Scenario {
  name: string;
  run(w: World): Promise<Recorded>;
}

const at = (day: number) => `2026-10-${String(day).padStart(2, '0')}T10:00:00Z`;
const start = (w: World, jobName: string, day: number) => startBatchRun(w.client, { taskQueue: w.taskQueue, jobName, scheduledAt: at(day) });
const done = async (h: BatchRunHandle): Promise<Recorded> => {
  await h.result().catch(() => undefined); // failed and cancelled runs are recorded too
  return { workflowId: h.workflowId, firstRunId: h.firstExecutionRunId };
};
const until = async (what: string, check: () => boolean | Promise<boolean>) => {
  for (const deadline = Date.now() + 60_000; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`recorder: timed out waiting for ${what}`);
  }
};
const slowSink = (w: World, ms: number) => w.sink.onData(() => ({ delayMs: ms, then: 'accept' }));
const lockKey = (w: World, job: string) => `${w.keyPrefix}job:${job}:lock`;

export const SCENARIOS: Scenario[] = [
  { name: 'completed', run: async (w) => done(await start(w, 'replay-small', 1)) },
  { name: 'continue-as-new', run: async (w) => done(await start(w, 'replay-chain', 2)) },
  { name: 'one-activity-per-recipient', run: async (w) => done(await start(w, 'replay-single', 3)) },
  { name: 'rate-limit-wait', run: async (w) => done(await start(w, 'replay-limited', 4)) },
  {
    name: 'redrive',
    async run(w) {
      const refused = (await w.pool.query<{ email: string }>('SELECT email FROM users ORDER BY id LIMIT 1')).rows[0]!.email;
      w.sink.rejectRcpt((a) => (a === refused ? { code: 550, message: '5.1.1 no such user' } : undefined));
      await done(await start(w, 'replay-small', 5));
      w.sink.rejectRcpt(undefined);
      const { rows } = await w.pool.query<{ id: number }>('SELECT id::int AS id FROM sendonce.dead_letters WHERE redriven_at IS NULL');
      const result = await redriveDeadLetters(w.client, w.pool, { ids: rows.map((r) => r.id), jobs: w.jobs, taskQueue: w.taskQueue, wait: true });
      const run = result.runs[0]!;
      const first = (await w.client.workflow.getHandle(run.workflowId).describe()).runId;
      return { workflowId: run.workflowId, firstRunId: first };
    },
  },
  {
    name: 'one-off',
    async run(w) {
      await scheduleEmail(w.pool, { to: 'once@replay.example', template: 'notice', values: { subject: 'Hi', body: 'once' }, at: new Date(at(5)) }, w.jobs);
      return done(await start(w, 'replay-once', 6));
    },
  },
  {
    name: 'skipped',
    async run(w) {
      await w.redis.set(lockKey(w, 'replay-small'), 'held-by-someone-else', 'PX', 60_000);
      try {
        return await done(await start(w, 'replay-small', 7));
      } finally {
        await w.redis.del(lockKey(w, 'replay-small'));
      }
    },
  },
  {
    name: 'lock-lost',
    async run(w) {
      slowSink(w, 300);
      const sentBefore = w.sink.count;
      const h = await start(w, 'replay-single', 8);
      await until('the run to send', () => w.sink.count > sentBefore);
      await w.redis.set(lockKey(w, 'replay-single'), 'taken-over', 'PX', 60_000); // the next renewal finds it gone
      const r = await done(h);
      await w.redis.del(lockKey(w, 'replay-single'));
      w.sink.onData(undefined);
      return r;
    },
  },
  {
    name: 'fenced',
    async run(w) {
      slowSink(w, 300);
      const sentBefore = w.sink.count;
      const h = await start(w, 'replay-single', 9);
      await until('the run to send', () => w.sink.count > sentBefore);
      await takeFence(w.pool, 'replay-single'); // a newer holder exists: the next claim is refused
      const r = await done(h);
      await w.redis.del(lockKey(w, 'replay-single')); // a fenced run leaves its lock to expire; the next scenario needs it
      w.sink.onData(undefined);
      return r;
    },
  },
  {
    name: 'failed-run-fatal',
    async run(w) {
      w.sink.requireAuth({ user: w.smtpAuth.user, pass: 'not-the-password' });
      try {
        return await done(await start(w, 'replay-small', 10));
      } finally {
        w.sink.requireAuth(w.smtpAuth);
      }
    },
  },
  { name: 'failed-page-order', run: async (w) => done(await start(w, 'replay-order', 11)) },
  {
    name: 'cancelled',
    async run(w) {
      slowSink(w, 300);
      const sentBefore = w.sink.count;
      const h = await start(w, 'replay-single', 12);
      await until('the run to send', () => w.sink.count > sentBefore);
      await h.cancel();
      const r = await done(h);
      w.sink.onData(undefined);
      return r;
    },
  },
  {
    name: 'time-budget',
    async run(w) {
      slowSink(w, 500);
      const r = await done(await start(w, 'replay-budget', 13));
      w.sink.onData(undefined);
      return r;
    },
  },
  {
    name: 'prune',
    async run(w) {
      const h = await w.client.workflow.start('pruneWorkflow', { taskQueue: w.taskQueue, workflowId: `replay-prune-${Date.now()}`, args: [{ olderThanMs: 90 * 86_400_000 }] });
      await h.result();
      return { workflowId: h.workflowId, firstRunId: h.firstExecutionRunId };
    },
  },
];
