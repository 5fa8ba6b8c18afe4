/**
 * Issue 6, bad input: malformed recipients, names, subjects, template values and job configuration, table-driven.
 * Each bad recipient row ends as a dead letter with a reason that says what is wrong (or, when the value is
 * merely unusual — HTML, line breaks in a body — is sent safely escaped); the run itself completes; the sink
 * never sees an injected header or a RCPT to an injected address. Bad configuration fails with a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJobRegistry, type JobDefinition } from '../../src/jobs';
import { upsertSchedule } from '../../src/schedule';
import { templates, type EmailTemplate } from '../../src/templates';
import type { SinkMessage } from '../../devkit/smtp-sink';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { headerViolations } from '../../scripts/chaos/invariants';
import { startHarness, testJob, type Harness } from '../support/harness';
import { deadLetters, runBatch, sendRows, SCHEDULED_AT } from '../support/never-twice';

const EVIL = 'victim@evil.test';
const TEMPLATE: EmailTemplate = {
  name: 'bad-input',
  subject: 'Hello {{name}}: {{subject}}',
  text: 'Hi {{name}},\n{{body}}\n',
  html: '<p>Hi {{name}},</p><p>{{body}}</p>',
};

interface Row {
  email: string | null;
  name: string | null;
  subject?: string | null;
  body?: string | null;
}
type Expect = { dead: RegExp } | { sent: (m: SinkMessage) => void };
interface RecipientCase extends Row {
  what: string;
  expect: Expect;
}

const ok = { name: 'Ann', subject: 'news', body: 'hello' };
const dead = (reason: RegExp): Expect => ({ dead: reason });
const sent = (check: (m: SinkMessage) => void = () => undefined): Expect => ({ sent: check });

const CASES: RecipientCase[] = [
  { what: 'address without a domain', ...ok, email: 'user@', expect: dead(/no local part or no domain/) },
  { what: 'address without an @', ...ok, email: 'user.example.com', expect: dead(/no local part or no domain/) },
  { what: 'address with CRLF and a Bcc header', ...ok, email: `a@example.com\r\nBcc: ${EVIL}`, expect: dead(/line break/) },
  { what: 'address with a bare LF and a To header', ...ok, email: `a@example.com\nTo: ${EVIL}`, expect: dead(/line break/) },
  { what: 'quoted local part that routes elsewhere', ...ok, email: '"a@example.com"@evil.test', expect: dead(/local part has characters/) },
  { what: 'address with a trailing comment', ...ok, email: 'a@example.com(comment)', expect: dead(/domain is not a valid host name/) },
  { what: 'two addresses in one field', ...ok, email: `a@example.com, ${EVIL}`, expect: dead(/local part has characters/) },
  { what: 'display-name form with angle brackets', ...ok, email: `Victim <${EVIL}>`, expect: dead(/local part has characters|domain/) },
  { what: 'address over 254 characters', ...ok, email: `${'x'.repeat(250)}@example.com`, expect: dead(/longer than 254/) },
  { what: 'local part over 64 characters', ...ok, email: `${'x'.repeat(65)}@example.com`, expect: dead(/local part is longer than 64/) },
  { what: 'non-ASCII local part', ...ok, email: 'jörg@example.com', expect: dead(/local part has characters/) },
  { what: 'non-ASCII domain', ...ok, email: 'user@exämple.com', expect: dead(/domain is not a valid host name/) },
  { what: 'email NULL', ...ok, email: null, expect: dead(/address is missing/) },
  { what: 'empty email', ...ok, email: '', expect: dead(/address is missing/) },
  { what: 'name with CRLF and a Bcc header', ...ok, email: 'name-crlf@example.com', name: `Mallory\r\nBcc: ${EVIL}`, expect: dead(/display name contains a line break/) },
  { what: 'name NULL (the template needs it)', ...ok, email: 'name-null@example.com', name: null, expect: dead(/no value for \{\{name\}\}/) },
  { what: 'subject value with CRLF and a Bcc header', ...ok, email: 'subject-crlf@example.com', subject: `hi\r\nBcc: ${EVIL}`, expect: dead(/line break into the subject/) },
  { what: 'missing template variable (subject NULL)', ...ok, email: 'subject-null@example.com', subject: null, expect: dead(/no value for \{\{subject\}\}/) },
  { what: 'missing template variable (body NULL)', ...ok, email: 'body-null@example.com', body: null, expect: dead(/no value for \{\{body\}\}/) },
  {
    what: 'HTML in the body value is escaped',
    ...ok,
    email: 'html-body@example.com',
    body: '<script>alert(1)</script>',
    expect: sent((m) => {
      assert.ok(m.html?.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), `escaped in the HTML part: ${m.html}`);
      assert.ok(!m.html?.includes('<script>'), 'no live script tag');
    }),
  },
  {
    what: 'HTML in the name is escaped',
    ...ok,
    email: 'html-name@example.com',
    name: '<img src=x onerror=alert(1)>',
    expect: sent((m) => assert.ok(!m.html?.includes('<img'), `no live img tag: ${m.html}`)),
  },
  {
    what: 'header-looking lines in the body stay in the body',
    ...ok,
    email: 'body-crlf@example.com',
    body: `line one\r\nBcc: ${EVIL}\r\n\r\nline three`,
    expect: sent((m) => assert.ok(m.text?.includes(`Bcc: ${EVIL}`), 'the text is kept, as text')),
  },
  {
    what: 'quotes and non-ASCII in the display name are encoded',
    ...ok,
    email: 'quoted-name@example.com',
    name: 'Zoë "The Boss" O\'Brien, Esq. <boss@evil.test>',
    expect: sent((m) => assert.deepEqual(m.to, ['quoted-name@example.com'])),
  },
  { what: 'a well-formed control row', ...ok, email: 'control@example.com', expect: sent((m) => assert.equal(m.subject, 'Hello Ann: news')) },
];

function badInputJob(): JobDefinition {
  return testJob({
    template: TEMPLATE.name,
    variables: ['name', 'subject', 'body'],
    async recipientPage(db, { afterId, limit }) {
      const { rows } = await db.query<{ id: string }>(
        // ORDER BY the bigint column, not the text alias `id` ('19' < '2' as text: the page-order check refuses it).
        'SELECT id::text AS id FROM bad_recipients WHERE ($1::bigint IS NULL OR bad_recipients.id > $1::bigint) ORDER BY bad_recipients.id LIMIT $2',
        [afterId, limit],
      );
      return rows.map((r) => r.id);
    },
    async loadRecipient(db, id) {
      const { rows } = await db.query<Row & { id: string }>('SELECT id::text AS id, email, name, subject, body FROM bad_recipients WHERE id = $1::bigint', [id]);
      const row = rows[0];
      if (!row) return null;
      // Straight from the table, NULLs included: the send activity must cope with whatever a job hands it.
      return { id: row.id, email: row.email as string, displayName: row.name ?? undefined, values: { name: row.name, subject: row.subject, body: row.body } };
    },
  });
}

async function seedCases(h: Harness): Promise<string[]> {
  await h.db.pool.query('CREATE TABLE bad_recipients (id bigserial PRIMARY KEY, email text, name text, subject text, body text)');
  const ids: string[] = [];
  for (const c of CASES) {
    const { rows } = await h.db.pool.query<{ id: string }>(
      'INSERT INTO bad_recipients (email, name, subject, body) VALUES ($1, $2, $3, $4) RETURNING id::text AS id',
      [c.email, c.name, c.subject ?? null, c.body ?? null],
    );
    ids.push(rows[0]!.id);
  }
  return ids;
}

test(`${CASES.length} malformed recipient rows: a dead letter with a reason or a safe send each, the run completes, no header injection`, async (t) => {
  const job = badInputJob();
  // The harness builds its registry from the built-in templates only: start it with a stand-in of the job, then
  // give the activities the registry with this test's template before the worker builds them.
  const h = await startHarness({ jobs: [{ ...job, template: 'notice', variables: ['subject', 'body'] }] });
  t.after(() => h.close());
  h.deps.jobs = createJobRegistry([job], { ...templates, [TEMPLATE.name]: TEMPLATE });
  await h.startWorker();
  const ids = await seedCases(h);

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed', `the run is not crashed by bad rows: ${JSON.stringify(summary)}`);
  const rows = await sendRows(h, job);
  const letters = new Map((await deadLetters(h, job)).map((d) => [d.recipient_id, d]));
  const messages = h.sink.messages();
  for (const [i, c] of CASES.entries()) {
    await t.test(c.what, () => {
      const row = rows.get(ids[i]!);
      assert.ok(row, 'the row is accounted for');
      const mine = messages.filter((m) => m.envelopeRcpt.includes((c.email ?? '').toLowerCase()));
      if ('dead' in c.expect) {
        assert.equal(row.state, 'dead', `ends dead (${row.reason})`);
        assert.match(row.reason ?? '', c.expect.dead);
        assert.ok(['InvalidRecipientError', 'TemplateError'].includes(letters.get(ids[i]!)?.error_type ?? ''), 'a dead letter names the error');
        assert.equal(mine.length, 0, 'nothing reached the sink');
      } else {
        assert.equal(row.state, 'sent', `sent (${row.reason})`);
        assert.equal(mine.length, 1, 'exactly one message');
        c.expect.sent(mine[0]!);
      }
    });
  }
  assert.equal(summary.counts.dead, CASES.filter((c) => 'dead' in c.expect).length);
  assert.deepEqual(headerViolations(messages), [], 'one RCPT, one To line, no Cc/Bcc line in every message');
  for (const m of messages) {
    assert.ok(!m.envelopeRcpt.some((r) => r.endsWith('@evil.test')), `no RCPT to an injected address: ${m.envelopeRcpt.join(', ')}`);
    assert.ok(!/^(bcc|cc):/im.test(m.rawHeaders), 'no injected header line');
  }
});

interface ConfigCase {
  what: string;
  check(h: Harness): Promise<void>;
}

const registryRejects = (job: Partial<JobDefinition>, message: RegExp) => async () => {
  assert.throws(() => createJobRegistry([testJob(job)]), message);
};

const CONFIG_CASES: ConfigCase[] = [
  { what: 'a template using a variable the job does not provide', check: registryRejects({ variables: [] }, /uses \{\{items\}\}, \{\{name\}\} but the job provides only: window, unsubscribeUrl/) },
  { what: 'an unknown template', check: registryRejects({ template: 'no-such-template' }, /unknown template 'no-such-template'/) },
  { what: 'an unknown timezone', check: registryRejects({ window: { granularity: 'daily', timezone: 'Mars/Olympus' } }, /unknown timezone 'Mars\/Olympus'/) },
  { what: 'a job name with spaces and capitals', check: registryRejects({ name: 'Daily Digest!' }, /name must match/) },
  {
    what: 'an invalid cron expression',
    async check(h) {
      const job = testJob({ schedule: { cron: 'every tuesday at noonish' } });
      const idPrefix = uniqueName('bad-cron');
      await assert.rejects(upsertSchedule(h.client, job, { taskQueue: h.taskQueue, idPrefix, paused: true }), (err: Error) => {
        assert.equal(err.name, 'ConfigError');
        assert.match(err.message, /cron 'every tuesday at noonish'.*refused/);
        return true;
      });
    },
  },
  {
    what: 'an unknown job',
    async check(h) {
      const started = Date.now();
      const handle = await startBatchRun(h.client, { taskQueue: h.taskQueue, jobName: 'no-such-job', scheduledAt: SCHEDULED_AT });
      await assert.rejects(handle.result(), (err: Error) => {
        assert.match(describeChain(err), /unknown job 'no-such-job'/);
        return true;
      });
      assert.ok(Date.now() - started < 15_000, 'fails at once (non-retryable), not after every retry');
    },
  },
];

function describeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as (Error & { cause?: unknown }) | undefined; e; e = e.cause as typeof e) parts.push(`${e.name}: ${e.message}`);
  return parts.join(' <- ');
}

test('bad configuration fails with a clear error', async (t) => {
  const h = await startHarness({ jobs: [testJob()] });
  t.after(() => h.close());
  await h.startWorker();
  for (const c of CONFIG_CASES) await t.test(c.what, () => c.check(h));
});
