/**
 * The four promises, checked from the outside after a fault: what the SMTP sink accepted (each message carries
 * its idempotency key in X-Sendonce-Key) against what Postgres recorded (email_sends, dead_letters) and the
 * claim log (claim-log.ts). Used by `npm run chaos` after every repetition and by the tests.
 *
 *  - no duplicates: at most one accepted message per key — except a key resent under the resend-once policy
 *    (resends = 1), which may have two, both with the key's Message-ID;
 *  - nothing lost silently: every expected key ends sent, dead (with a reason and a dead letter) or unknown
 *    (with a reason); none stays claimed or failed; no key outside the expected set (wrong window) exists;
 *    a key recorded sent is at the sink, a key recorded dead is not;
 *  - bounded attempts: no key used more than maximumAttempts (+1 for the resend-once copy);
 *  - no overlap: once a newer lock holder (fence) has claimed anything for the job, no claim carries an
 *    older fence — the old holder may still be finishing a send it claimed before, never starting one.
 */
import type { Pool } from 'pg';
import type { SinkMessage } from '../../devkit/smtp-sink';
import { claimEvents, type ClaimEvent } from './claim-log';

export interface JobUnderTest {
  name: string;
  maximumAttempts: number;
  resendOnce: boolean;
}

export interface Figures {
  expected: number;
  /** Expected keys with at least one message at the sink. */
  delivered: number;
  /** Copies beyond what the policy allows. */
  duplicates: number;
  /** Second copies allowed by resend-once (same Message-ID). */
  resent: number;
  unknown: number;
  dead: number;
  /** Expected keys left claimed or failed, or with no row at all. */
  stuck: number;
  maxAttempts: number;
}

export interface InvariantResult {
  figures: Figures;
  violations: string[];
  /**
   * Settled keys read `sent` whose message the sink accepted between the check's two reads: sends in flight across
   * the check. Not a violation — a check that read the sink only before the rows reported each as a loss (issue 28).
   */
  crossings: string[];
}

export interface SendRow {
  key: string;
  state: string;
  attempts: number;
  resends: number;
  message_id: string;
  reason: string | null;
}

const KEY_HEADER = /^X-Sendonce-Key:[ \t]*(\S+)/im;

/** The idempotency key a message carries (X-Sendonce-Key), if any. */
export function keyOf(message: Pick<SinkMessage, 'rawHeaders'>): string | undefined {
  return KEY_HEADER.exec(message.rawHeaders)?.[1];
}

/**
 * What the soak adds to a repetition's check: a long-lived database holds windows still in progress, so only the
 * `settled` keys (windows a run completed) must be accounted for yet; a key with no row at all is accounted for
 * when its recipient's address is `suppressed` (a hard bounce, recorded; the run counted it suppressed).
 */
export interface CheckOptions {
  settled?: ReadonlySet<string>;
  suppressed?: ReadonlySet<string>;
}

/** The sink's record, read as it is at the moment of the call (`() => sink.messages()`). */
export type SinkReader = () => readonly SinkMessage[];

/** What Postgres holds for a job at one moment: its rows, its dead letters, its logged claims. */
export interface JobRecords {
  rows: SendRow[];
  letters: Set<string>;
  claims: ClaimEvent[] | undefined;
}

/**
 * The sink read on both sides of the database reads. Sends may still be in flight while a check runs (a paused
 * worker waking up, a zombie lock holder, a duplicate trigger): such a send can be accepted by the sink and
 * recorded `sent` between the two reads of one check. Each question is asked of the read that makes it exact:
 *  - `before` (sink read before the rows): each of these messages had its claim committed before SMTP, so its
 *    row exists in what was read — "a message with no row" is judged on it;
 *  - `after` (sink read after the rows): each row read `sent` was marked after the server's 250, which the sink
 *    sends after recording the message — "recorded sent, no message", duplicates and headers are judged on it.
 * One read before the rows made a straggler's key look lost (issue 28); one read after would make a new claim's
 * message look rowless.
 */
export interface SinkReads {
  before: readonly SinkMessage[];
  after: readonly SinkMessage[];
}

export async function checkInvariants(
  pool: Pool,
  job: JobUnderTest,
  expectedKeys: readonly string[],
  sink: SinkReader,
  options: CheckOptions = {},
): Promise<InvariantResult> {
  const { records, reads } = await readAround(sink, () => readJobRecords(pool, job.name));
  return judgeInvariants(job, expectedKeys, records, reads, options);
}

/** Database reads between two reads of the sink, in the order SinkReads needs (the soak's check uses it too). */
export async function readAround<T>(sink: SinkReader, readDatabase: () => Promise<T>): Promise<{ records: T; reads: SinkReads & { beforeAt: Date; afterAt: Date } }> {
  const beforeAt = new Date();
  const before = sink();
  const records = await readDatabase();
  const afterAt = new Date();
  return { records, reads: { before, beforeAt, after: sink(), afterAt } };
}

export async function readJobRecords(pool: Pool, jobName: string): Promise<JobRecords> {
  const { rows } = await pool.query<SendRow>(
    `SELECT idempotency_key AS key, state, attempts, resends, message_id, COALESCE(reason, last_error_type) AS reason
       FROM sendonce.email_sends WHERE job_name = $1`,
    [jobName],
  );
  const { rows: letters } = await pool.query<{ key: string }>(
    'SELECT DISTINCT idempotency_key AS key FROM sendonce.dead_letters WHERE job_name = $1',
    [jobName],
  );
  return { rows, letters: new Set(letters.map((l) => l.key)), claims: await claimEvents(pool, jobName) };
}

/** The four promises over one job's records and the sink's two reads around them (pure). */
export function judgeInvariants(
  job: JobUnderTest,
  expectedKeys: readonly string[],
  records: JobRecords,
  sink: SinkReads,
  options: CheckOptions = {},
): InvariantResult {
  const { rows } = records;
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const expected = new Set(expectedKeys);
  const copies = groupByKey(sink.after);
  const copiesBefore = groupByKey(sink.before);
  const violations: string[] = [];
  const dup = duplicateViolations(job, byKey, copies, copiesBefore, expected);
  const settled = options.settled ?? expected;
  const lost = lostViolations(byKey, expected, settled, records.letters, copies, options.suppressed);
  violations.push(...dup.violations, ...lost.violations, ...attemptViolations(job, rows), ...headerViolations(sink.after));
  violations.push(...overlapViolations(records.claims));
  const count = (state: string) => rows.filter((r) => r.state === state && expected.has(r.key)).length;
  const crossings = rows.filter((r) => r.state === 'sent' && settled.has(r.key) && copies.has(r.key) && !copiesBefore.has(r.key)).map((r) => r.key);
  return {
    figures: {
      expected: expected.size,
      delivered: [...expected].filter((k) => (copies.get(k)?.length ?? 0) > 0).length,
      duplicates: dup.duplicates,
      resent: dup.resent,
      unknown: count('unknown'),
      dead: count('dead'),
      stuck: lost.stuck,
      maxAttempts: rows.reduce((m, r) => Math.max(m, r.attempts), 0),
    },
    violations,
    crossings,
  };
}

function groupByKey(messages: readonly SinkMessage[]): Map<string, SinkMessage[]> {
  const out = new Map<string, SinkMessage[]>();
  for (const m of messages) {
    const key = keyOf(m) ?? '(no X-Sendonce-Key)';
    out.set(key, [...(out.get(key) ?? []), m]);
  }
  return out;
}

function duplicateViolations(
  job: JobUnderTest,
  rows: Map<string, SendRow>,
  copies: Map<string, SinkMessage[]>,
  copiesBefore: Map<string, SinkMessage[]>,
  expected: Set<string>,
) {
  const violations: string[] = [];
  let duplicates = 0;
  let resent = 0;
  for (const [key, messages] of copies) {
    const row = rows.get(key);
    if (!expected.has(key)) violations.push(`message for a key outside the expected set: ${key}`);
    if (!row) {
      // Only a message the sink had before the rows were read proves a send without a claim (see SinkReads).
      if (copiesBefore.has(key)) violations.push(`message for a key with no email_sends row: ${key}`);
      continue;
    }
    const allowed = 1 + (job.resendOnce ? Math.min(row.resends, 1) : 0);
    duplicates += Math.max(0, messages.length - allowed);
    resent += Math.min(messages.length, allowed) - 1;
    if (messages.length > allowed) violations.push(`duplicate: ${key} accepted ${messages.length} times (${row.state}, resends ${row.resends})`);
    const foreign = messages.filter((m) => m.messageId !== row.message_id);
    if (foreign.length > 0) violations.push(`${key}: ${foreign.length} message(s) with a Message-ID other than ${row.message_id}`);
    if (row.state === 'dead') violations.push(`${key} is recorded dead but the sink accepted it`);
  }
  return { violations, duplicates, resent };
}

function lostViolations(
  rows: Map<string, SendRow>,
  expected: Set<string>,
  settled: ReadonlySet<string>,
  letters: Set<string>,
  copies: Map<string, SinkMessage[]>,
  suppressed: ReadonlySet<string> | undefined,
) {
  const violations: string[] = [];
  let stuck = 0;
  for (const key of settled) {
    const row = rows.get(key);
    // A suppressed recipient's claim is given back: no row, or a `released` one when the key had history.
    if ((!row || row.state === 'released') && suppressed?.has(key)) continue;
    if (!row) {
      stuck++;
      violations.push(`lost: ${key} has no email_sends row`);
      continue;
    }
    if (row.state === 'claimed' || row.state === 'failed' || row.state === 'released') {
      stuck++;
      violations.push(`stuck: ${key} ended ${row.state}`);
    }
    if ((row.state === 'dead' || row.state === 'unknown') && !row.reason) violations.push(`${key} is ${row.state} without a reason`);
    if (row.state === 'dead' && !letters.has(key)) violations.push(`${key} is dead without a dead letter`);
    if (row.state === 'sent' && !copies.has(key)) violations.push(`${key} is recorded sent but the sink has no message for it`);
  }
  for (const key of rows.keys()) if (!expected.has(key)) violations.push(`a key outside the expected set was recorded: ${key}`);
  return { violations, stuck };
}

function attemptViolations(job: JobUnderTest, rows: readonly SendRow[]): string[] {
  const bound = job.maximumAttempts + (job.resendOnce ? 1 : 0);
  return rows.filter((r) => r.attempts > bound).map((r) => `attempts: ${r.key} used ${r.attempts} (bound ${bound})`);
}

/** Every accepted message went to exactly one envelope recipient, with one To header and no Cc/Bcc lines. */
export function headerViolations(messages: readonly SinkMessage[]): string[] {
  const out: string[] = [];
  for (const m of messages) {
    const lines = m.rawHeaders.split(/\r?\n/);
    const to = lines.filter((l) => /^to:/i.test(l)).length;
    const extra = lines.filter((l) => /^(b?cc):/i.test(l));
    if (m.envelopeRcpt.length !== 1 || to !== 1 || extra.length > 0) {
      out.push(`header injection? ${m.messageId}: RCPT ${JSON.stringify(m.envelopeRcpt)}, ${to} To line(s), ${extra.join(' | ') || 'no Cc/Bcc'}`);
    }
  }
  return out;
}

/** Claims in database-clock order: a claim whose fence is below the highest fence already seen is an overlap. */
export function overlapViolations(events: readonly ClaimEvent[] | undefined): string[] {
  if (!events) return [];
  let newest: ClaimEvent | undefined;
  const late: ClaimEvent[] = [];
  for (const e of events) {
    if (newest && e.fence < newest.fence) late.push(e);
    else if (!newest || e.fence > newest.fence) newest = e;
  }
  if (late.length === 0) return [];
  const first = late[0]!;
  return [
    `overlap: ${late.length} claim(s) with an older fence after a newer holder had claimed, ` +
      `e.g. ${first.key} with fence ${first.fence} at ${first.at.toISOString()} (run ${first.runId})`,
  ];
}
