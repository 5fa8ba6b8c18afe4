/**
 * Issue 15, deliverability, on real services (Postgres, Temporal, the SMTP sink, the unsubscribe endpoint over
 * real HTTP): one-click unsubscribe headers and both parts as the sink parsed them; the POST records the opt-out
 * once and the next window skips the recipient (counted `suppressed`); forged and expired tokens change nothing;
 * an address-wide opt-out reaches other jobs; a 550 5.1.1 suppresses the address for the next window while a
 * 5.7.1 stays a per-key dead letter; a missing value inside a loop is a dead letter naming the variable.
 * Issue 29 (8): a hard bounce and a later unsubscribe are both kept, the endpoint's answer is true, and a redrive
 * of the bounce's dead letter lifts the bounce only — the next window still sends that person nothing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { redriveDeadLetters } from '../../src/api';
import type { JobDefinition } from '../../src/jobs';
import { createLogger } from '../../src/logger';
import { signUnsubscribeToken, startUnsubscribeServer, type UnsubscribeSettings } from '../../src/suppressions';
import { templates } from '../../src/templates';
import { userEmails } from '../../devkit/seed';
import { freePort } from '../../devkit/services/ports';
import { testJob, type Harness } from '../support/harness';
import { assertCountsAddUp, deadLetters, harnessFor, runBatch, sendRows } from '../support/never-twice';

const SECRET = 'test-unsubscribe-secret-0123456789-abcdef';
const DAY_1 = '2026-11-20T10:00:00Z';
const DAY_2 = '2026-11-21T10:00:00Z';

async function deliverabilityHarness(t: TestContext, jobs: JobDefinition[], extra: { templates?: typeof templates } = {}) {
  const port = await freePort();
  const unsubscribe: UnsubscribeSettings = { url: `http://127.0.0.1:${port}/unsubscribe`, keys: { current: SECRET }, tokenTtlMs: 3_600_000 };
  const h = await harnessFor(t, jobs, { unsubscribe, ...extra });
  const server = await startUnsubscribeServer({ port, host: '127.0.0.1', pool: h.db.pool, keys: unsubscribe.keys, logger: createLogger('silent') });
  t.after(() => server.close());
  return { h, unsubscribe };
}

/** The https (here loopback http) link of List-Unsubscribe, as the sink parsed the header. */
function linkOf(h: Harness, address: string): string {
  const header = h.sink.messagesTo(address)[0]?.headers['list-unsubscribe'] ?? '';
  const url = /^<(http[^>]+)>/.exec(header)?.[1];
  assert.ok(url, `a List-Unsubscribe link for ${address}: '${header}'`);
  return url;
}

const oneClick = (url: string, body = 'List-Unsubscribe=One-Click') =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' });

async function suppressionRows(h: Harness) {
  const { rows } = await h.db.pool.query<{ scope: string; job_name: string | null; recipient_id: string | null; address: string | null; address_hash: string | null; reason: string }>(
    'SELECT scope, job_name, recipient_id, address, address_hash, reason FROM sendonce.suppressions ORDER BY id',
  );
  return rows;
}

test('one-click unsubscribe: headers and both parts at the sink; a bad token changes nothing; the POST records once; the next window skips and counts', async (t) => {
  const job = testJob();
  const { h } = await deliverabilityHarness(t, [job]);
  const addresses = userEmails(3, 'unsub.test');
  const ids = await h.seedUsers(addresses);
  await h.db.pool.query(`INSERT INTO digest_items (user_id, title) VALUES ($1, 'First & best'), ($1, 'Second')`, [ids[0]]);

  const day1 = await runBatch(h, job, { scheduledAt: DAY_1 });
  assert.equal(day1.counts.sent, 3);
  const m = h.sink.messagesTo(addresses[0]!)[0]!;
  const url = linkOf(h, addresses[0]!);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?t=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(!url.includes('unsub.test') && !url.includes('%40'), 'no address in the link');
  assert.equal(m.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  assert.match(m.html ?? '', /<li>First &amp; best<\/li>\s*<li>Second<\/li>/, 'the HTML part lists the items, escaped');
  assert.ok(m.html?.includes(`<a href="${url}">Unsubscribe</a>`), 'the HTML part links the same URL');
  assert.match(m.text ?? '', /^- First & best$/m, 'the text part lists the items, unescaped');
  assert.ok(m.text?.includes(`Unsubscribe: ${url}`), 'the text part shows the same URL');
  assert.match(h.sink.messagesTo(addresses[1]!)[0]!.text ?? '', /Nothing new today\./, 'no items: the else branch');
  assert.notEqual(linkOf(h, addresses[1]!), url, 'one token per recipient');

  // Forged (another secret), expired, altered, without the one-click body, or a GET: 400 or a page, nothing recorded.
  const forged = signUnsubscribeToken({ current: 'an-attacker-secret-0123456789-0123456789' }, { jobName: job.name, recipientId: ids[2]!, scope: 'job', expiresAt: 4_000_000_000 });
  const expired = signUnsubscribeToken({ current: SECRET }, { jobName: job.name, recipientId: ids[2]!, scope: 'job', expiresAt: 1_000_000_000 });
  const base = url.slice(0, url.indexOf('?'));
  for (const [what, target, body, reason] of [
    ['forged', `${base}?t=${forged}`, undefined, /unknown key/],
    ['expired', `${base}?t=${expired}`, undefined, /expired/],
    ['altered', url.slice(0, -3) + (url.endsWith('AAA') ? 'BBB' : 'AAA'), undefined, /signature does not match/],
    ['no token', base, undefined, /malformed/],
    ['not one-click', url, 'unsubscribe=yes', /List-Unsubscribe=One-Click/],
  ] as const) {
    const res = await oneClick(target, body);
    assert.equal(res.status, 400, what);
    assert.match(await res.text(), reason, what);
  }
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post"/, 'a GET shows a button and changes nothing (link scanners fetch URLs)');
  assert.deepEqual(await suppressionRows(h), []);

  for (let i = 0; i < 2; i++) {
    const res = await oneClick(url);
    assert.equal(res.status, 200, `POST ${i + 1}: ${await res.text()}`);
  }
  assert.deepEqual(await suppressionRows(h), [{ scope: 'job', job_name: job.name, recipient_id: ids[0], address: null, address_hash: null, reason: 'unsubscribe' }], 'recorded once');

  const day2 = await runBatch(h, job, { scheduledAt: DAY_2 });
  assert.deepEqual([day2.counts.sent, day2.counts.suppressed], [2, 1], JSON.stringify(day2.counts));
  assertCountsAddUp(day2, 3);
  assert.equal(h.sink.messagesTo(addresses[0]!).length, 1, 'no digest after the opt-out');
  assert.equal(h.sink.rcptAttempts(addresses[0]!), 1, 'not even offered to the server');
  const keys = await h.db.pool.query<{ recipient_id: string }>('SELECT recipient_id FROM sendonce.email_sends WHERE job_name = $1 AND window_key = $2 ORDER BY id', [job.name, day2.window]);
  assert.deepEqual(keys.rows.map((r) => r.recipient_id).sort(), [ids[1], ids[2]].sort(), 'no key for the suppressed recipient in the new window');
  const { rows } = await h.db.pool.query<{ suppressed: number }>('SELECT suppressed FROM sendonce.job_runs WHERE run_id = $1', [day2.runId]);
  assert.equal(rows[0]?.suppressed, 1, 'job_runs keeps the count');
});

test('unsubscribe from all mail (job scope "address"): the link carries only a hash; another job skips the address at send time', async (t) => {
  const everything = testJob({ unsubscribe: { scope: 'address' } });
  const other = testJob({ template: 'digest-copy' });
  const { h } = await deliverabilityHarness(t, [everything, other], { templates: { 'digest-copy': { ...templates['daily-digest']!, name: 'digest-copy' } } });
  const addresses = userEmails(2, 'all.test');
  const ids = await h.seedUsers(addresses);
  await runBatch(h, everything, { scheduledAt: DAY_1 });
  assert.equal((await oneClick(linkOf(h, addresses[0]!))).status, 200);
  const [row] = await suppressionRows(h);
  assert.deepEqual([row?.scope, row?.address, row?.recipient_id, row?.reason], ['address', null, ids[0], 'unsubscribe']);
  assert.match(row?.address_hash ?? '', /^[0-9a-f]{64}$/);

  const summary = await runBatch(h, other, { scheduledAt: DAY_1 });
  assert.deepEqual([summary.counts.sent, summary.counts.suppressed], [1, 1], JSON.stringify(summary.counts));
  assertCountsAddUp(summary, 2);
  assert.equal(h.sink.messagesTo(addresses[0]!).length, 1, 'only the first job\'s message');
  assert.deepEqual([...(await sendRows(h, other)).keys()], [ids[1]], 'the claim was given back: no row left for the suppressed address');
});

test('a 550 5.1.1 suppresses the address: dead letter today, not tried the next day; a 5.7.1 policy refusal is tried again', async (t) => {
  const job = testJob({}, { maximumAttempts: 3 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(3, 'bounce.test');
  const ids = await h.seedUsers(addresses);
  const [gone, policy] = addresses as [string, string, string];
  h.sink.rejectRcpt((a) =>
    a === gone ? { code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown` }
      : a === policy ? { code: 550, message: '5.7.1 Message rejected as spam' } : undefined);

  const day1 = await runBatch(h, job, { scheduledAt: DAY_1 });
  assert.deepEqual([day1.counts.sent, day1.counts.dead, day1.counts.suppressed], [1, 2, 0]);
  assert.deepEqual((await deadLetters(h, job)).map((d) => [d.recipient_id, d.error_type, d.smtp_code]).sort(), [[ids[0], 'SmtpPermanentError', 550], [ids[1], 'SmtpPermanentError', 550]].sort());
  const rows = await suppressionRows(h);
  assert.equal(rows.length, 1, 'only the hard bounce suppresses');
  assert.deepEqual([rows[0]!.scope, rows[0]!.reason, rows[0]!.address, rows[0]!.job_name, rows[0]!.recipient_id], ['address', 'hard_bounce', gone, job.name, ids[0]]);

  const day2 = await runBatch(h, job, { scheduledAt: DAY_2 });
  assert.deepEqual([day2.counts.sent, day2.counts.dead, day2.counts.suppressed], [1, 1, 1], JSON.stringify(day2.counts));
  assertCountsAddUp(day2, 3);
  assert.equal(h.sink.rcptAttempts(gone), 1, 'the non-existent mailbox is not tried again');
  assert.equal(h.sink.rcptAttempts(policy), 2, 'a policy refusal is per window: tried again');
});

test('hard bounce, then one-click unsubscribe: both reasons kept, the answer true; a redrive lifts only the bounce and nothing is sent', async (t) => {
  const job = testJob({ unsubscribe: { scope: 'address' } });
  const { h } = await deliverabilityHarness(t, [job]);
  const addresses = userEmails(2, 'bounce-unsub.test');
  const ids = await h.seedUsers(addresses);
  const gone = addresses[0]!;
  assert.equal((await runBatch(h, job, { scheduledAt: DAY_1 })).counts.sent, 2);
  const url = linkOf(h, gone);

  // Day 2: the mailbox is gone (5.1.1): a dead letter, and the address is suppressed for the bounce.
  h.sink.rejectRcpt((a) => (a === gone ? { code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown` } : undefined));
  const day2 = await runBatch(h, job, { scheduledAt: DAY_2 });
  assert.deepEqual([day2.counts.sent, day2.counts.dead], [1, 1], JSON.stringify(day2.counts));
  h.sink.rejectRcpt(undefined); // the mailbox works again

  // Recording fails: the answer does not claim success (a real trigger refuses the insert).
  await h.db.pool.query(`CREATE FUNCTION refuse_suppression() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$`);
  await h.db.pool.query('CREATE TRIGGER refuse BEFORE INSERT ON sendonce.suppressions FOR EACH ROW EXECUTE FUNCTION refuse_suppression()');
  const failed = await oneClick(url);
  assert.equal(failed.status, 500);
  assert.doesNotMatch(await failed.text(), /You are unsubscribed|already unsubscribed/, 'no success claimed when nothing was recorded');
  await h.db.pool.query('DROP TRIGGER refuse ON sendonce.suppressions');

  // The person unsubscribes (the day-1 link) on top of the bounce: recorded as its own reason, and the answer says so.
  const first = await oneClick(url);
  assert.equal(first.status, 200);
  assert.match(await first.text(), /You are unsubscribed\./);
  const rows = await suppressionRows(h);
  assert.deepEqual(rows.map((r) => [r.scope, r.reason, r.recipient_id]), [['address', 'hard_bounce', ids[0]], ['address', 'unsubscribe', ids[0]]], 'both reasons, one row each');
  assert.equal(rows[0]!.address_hash, rows[1]!.address_hash, 'of the same address');
  const again = await oneClick(url);
  assert.equal(again.status, 200);
  assert.match(await again.text(), /You were already unsubscribed\./, 'a second click is answered as what it is');

  // Redrive the bounce's dead letter: the bounce is lifted (and recorded as lifted), the unsubscribe stays.
  const { rows: letters } = await h.db.pool.query<{ id: number }>('SELECT id::int AS id FROM sendonce.dead_letters WHERE job_name = $1', [job.name]);
  assert.equal(letters.length, 1);
  const redrive = await redriveDeadLetters(h.client, h.db.pool, { ids: [letters[0]!.id], jobs: h.deps.jobs, taskQueue: h.taskQueue, wait: true });
  // Nothing sent. (How the redrive run counts the key is issue 29's point 7: giving back a claim whose key has a
  // dead letter fails on its foreign key today, so the key ends `unknown` rather than `suppressed`.)
  assert.equal(redrive.runs[0]?.summary?.counts.sent, 0, JSON.stringify(redrive.runs[0]?.summary?.counts));
  assert.deepEqual((await suppressionRows(h)).map((r) => [r.scope, r.reason, r.recipient_id]), [['address', 'unsubscribe', ids[0]]], 'only the bounce was lifted');
  const { rows: lifted } = await h.db.pool.query<{ reason: string; note: string }>('SELECT reason, note FROM sendonce.suppression_removals ORDER BY id');
  assert.deepEqual(lifted.map((r) => r.reason), ['hard_bounce']);
  assert.match(lifted[0]!.note, new RegExp(`redrive of dead letter ${letters[0]!.id}`));

  // The next window: still suppressed, nothing sent to that person (counted at the sink).
  const day3 = await runBatch(h, job, { scheduledAt: '2026-11-22T10:00:00Z' });
  assert.deepEqual([day3.counts.sent, day3.counts.suppressed], [1, 1], JSON.stringify(day3.counts));
  assertCountsAddUp(day3, 2);
  assert.equal(h.sink.messagesTo(gone).length, 1, 'only the day-1 message, before the bounce and the opt-out');
  assert.equal(h.sink.rcptAttempts(gone), 2, 'offered on day 1 and day 2 (the bounce), never after the opt-out');
  assert.equal(h.sink.messagesTo(addresses[1]!).length, 3);
});

test('a value missing inside a loop is a dead letter naming the variable (TemplateError); the others are sent', async (t) => {
  const base = testJob();
  const job: JobDefinition = {
    ...base,
    async loadRecipient(db, id) {
      const r = await base.loadRecipient(db, id);
      return r && r.email.startsWith('user1@') ? { ...r, values: { ...r.values, items: [{ headline: 'no title here' }] } } : r;
    },
  };
  const h = await harnessFor(t, [job]);
  const ids = await h.seedUsers(userEmails(2, 'loop.test'));
  const summary = await runBatch(h, job, { scheduledAt: DAY_1 });
  assert.deepEqual([summary.counts.sent, summary.counts.dead], [1, 1]);
  const row = (await sendRows(h, job)).get(ids[0]!)!;
  assert.equal(row.state, 'dead');
  assert.match(row.reason ?? '', /template 'daily-digest' \((text|html)\): undefined variable: item\.title/);
  assert.deepEqual((await deadLetters(h, job)).map((d) => [d.recipient_id, d.error_type]), [[ids[0], 'TemplateError']]);
});
