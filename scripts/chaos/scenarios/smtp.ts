/**
 * Scenarios 6–9: the SMTP server misbehaves — a 421 storm, 550 for some recipients, accepting DATA and then
 * dropping the connection, being down for the first attempts. No process is killed: these are the fastest and
 * run (one repetition) inside `npm test` too.
 */
import { chaosDigest, chaosDigestResend } from '../jobs';
import { pointIn, settle, until, type Scenario } from '../scenario';
import { sleep } from '../stack';
import { CHAOS_WINDOW, type World } from '../world';

const STORM_MS = 1_500;

export const smtp421Storm: Scenario = {
  id: 6,
  name: 'smtp-421-storm',
  title: `every RCPT answered 421 for ${STORM_MS / 1000} s, starting at a random message`,
  job: chaosDigest,
  recipients: 150,
  async run(world, rng) {
    await world.startWorker();
    const k = pointIn(rng, world.users.length, 0.1, 0.5);
    let storm: Promise<void> | undefined;
    let arrivals = 0;
    world.sink.onData(() => {
      if (++arrivals === k) {
        world.sink.rejectRcpt(() => ({ code: 421, message: '4.3.2 Service shutting down, try later' }));
        storm = sleep(STORM_MS).then(() => world.sink.rejectRcpt(undefined));
      }
      return { delayMs: 10 };
    });
    const summary = await world.result(await world.startRun());
    await storm;
    world.notes.push(`storm from message ${k}; ${summary.counts.retries} retries`);
    const outcome = await settle(world, [summary], [CHAOS_WINDOW]);
    if (summary.counts.retries === 0) outcome.violations.push('no send was retried: the storm missed the batch');
    return outcome;
  },
};

export const smtp550: Scenario = {
  id: 7,
  name: 'smtp-550-some',
  title: 'RCPT answered 550 (no such user) for a random 10% of recipients',
  job: chaosDigest,
  recipients: 150,
  async run(world, rng) {
    await world.startWorker();
    const refused = new Set(world.users.filter(() => rng() < 0.1).map((u) => u.email));
    world.sink.rejectRcpt((address) => (refused.has(address) ? { code: 550, message: '5.1.1 No such user' } : undefined));
    const outcome = await settle(world, [await world.result(await world.startRun())], [CHAOS_WINDOW]);
    world.notes.push(`${refused.size} recipients refused`);
    outcome.violations.push(...(await refusedAreDead(world, refused)));
    return outcome;
  },
};

/** Exactly the refused recipients are dead (with the 550 recorded); nobody else is. */
async function refusedAreDead(world: World, refused: Set<string>): Promise<string[]> {
  const { rows } = await world.pool.query<{ recipient_id: string; last_smtp_code: number | null }>(
    `SELECT recipient_id, last_smtp_code FROM sendonce.email_sends WHERE job_name = $1 AND state = 'dead'`,
    [world.job.name],
  );
  const deadIds = new Map(rows.map((r) => [r.recipient_id, r.last_smtp_code]));
  const out: string[] = [];
  for (const u of world.users) {
    const dead = deadIds.has(u.id);
    if (refused.has(u.email) && !dead) out.push(`refused recipient ${u.id} is not dead`);
    if (!refused.has(u.email) && dead) out.push(`recipient ${u.id} is dead but was never refused`);
    if (dead && deadIds.get(u.id) !== 550) out.push(`dead recipient ${u.id} recorded SMTP code ${deadIds.get(u.id)}, not 550`);
  }
  return out;
}

export const smtpDropAfterData: Scenario = {
  id: 8,
  name: 'smtp-drop-after-data',
  title: "DATA stored, then the connection cut unanswered, for a random 10% of messages (job policy 'resend-once')",
  job: chaosDigestResend,
  recipients: 150,
  async run(world, rng) {
    await world.startWorker();
    const dropped = new Set<string>();
    world.sink.onData((ctx) => {
      const to = ctx.envelopeRcpt[0] ?? '';
      if (dropped.has(to) || rng() >= 0.1) return 'accept';
      dropped.add(to);
      return 'store-then-drop';
    });
    const outcome = await settle(world, [await world.result(await world.startRun())], [CHAOS_WINDOW]);
    world.notes.push(`${dropped.size} messages stored then cut`);
    outcome.violations.push(...(await droppedAreResent(world, dropped)));
    return outcome;
  },
};

/** Under resend-once every cut message was resent once (resends = 1) — and only those. */
async function droppedAreResent(world: World, dropped: Set<string>): Promise<string[]> {
  const { rows } = await world.pool.query<{ recipient_id: string; resends: number }>(
    'SELECT recipient_id, resends FROM sendonce.email_sends WHERE job_name = $1 AND resends > 0',
    [world.job.name],
  );
  const resent = new Set(rows.map((r) => r.recipient_id));
  const droppedIds = new Set(world.users.filter((u) => dropped.has(u.email)).map((u) => u.id));
  const out: string[] = [];
  for (const id of droppedIds) if (!resent.has(id)) out.push(`cut message for recipient ${id} was not resent`);
  for (const id of resent) if (!droppedIds.has(id)) out.push(`recipient ${id} was resent without a cut`);
  return out;
}

const DOWN_MS = 2_500;

export const smtpDownThenBack: Scenario = {
  id: 9,
  name: 'smtp-down-then-back',
  title: `SMTP server not listening when the run starts, back ${DOWN_MS / 1000} s later`,
  job: chaosDigest,
  recipients: 150,
  async run(world) {
    await world.startWorker();
    await world.sink.stop();
    const handle = await world.startRun();
    await until(async () => {
      const { rows } = await world.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sendonce.email_sends WHERE state = 'failed'`);
      return rows[0]!.n > 0;
    }, 'the first failed attempts');
    await sleep(DOWN_MS);
    await world.sink.start();
    const summary = await world.result(handle);
    world.notes.push(`${summary.counts.retries} retries`);
    const outcome = await settle(world, [summary], [CHAOS_WINDOW]);
    const delivered = world.sink.count;
    if (delivered !== world.users.length) outcome.violations.push(`only ${delivered} of ${world.users.length} delivered after the server came back`);
    return outcome;
  },
};
