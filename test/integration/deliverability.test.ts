/**
 * Issue 15, deliverability, on real services (Postgres, Temporal, the SMTP sink, the unsubscribe endpoint over
 * real HTTP): one-click unsubscribe headers and both parts as the sink parsed them; the POST records the opt-out
 * once and the next window skips the recipient (counted `suppressed`); forged and expired tokens change nothing;
 * an address-wide opt-out reaches other jobs; a 550 5.1.1 suppresses the address for the next window while a
 * 5.7.1 stays a per-key dead letter; a missing value inside a loop is a dead letter naming the variable.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
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
    'SELECT scope, job_name, recipient_id, address, address_hash, reason FROM suppressions ORDER BY id',
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
  const keys = await h.db.pool.query<{ recipient_id: string }>('SELECT recipient_id FROM email_sends WHERE job_name = $1 AND window_key = $2 ORDER BY id', [job.name, day2.window]);
  assert.deepEqual(keys.rows.map((r) => r.recipient_id).sort(), [ids[1], ids[2]].sort(), 'no key for the suppressed recipient in the new window');
  const { rows } = await h.db.pool.query<{ suppressed: number }>('SELECT suppressed FROM job_runs WHERE run_id = $1', [day2.runId]);
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
