/**
 * Issue 15.3: templates in files, compiled by LiquidJS — escaping on by default (HTML part only), loops, partials,
 * strict variables; every mistake refused with the template and part named, at start-up where it can be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createJobRegistry } from '../../src/jobs';
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { ConfigError, TemplateError } from '../../src/errors';
import { loadTemplateDir, renderTemplate, templates, templateVariables, type EmailTemplate } from '../../src/templates';

const values = { name: 'Ann <b>', window: '2026-11-20', unsubscribeUrl: 'https://u.example/unsubscribe?t=a.b&x=1' };

test('the demo digest loops over its items, escapes HTML only in the HTML part, and carries the unsubscribe link', () => {
  const t = templates['daily-digest']!;
  assert.deepEqual(templateVariables(t), ['items', 'name', 'unsubscribeUrl', 'window'], 'the loop variable is not a job variable');
  const r = renderTemplate(t, { ...values, items: [{ title: 'Tom & Jerry <3' }, { title: 'Second' }] });
  assert.equal(r.subject, 'Your daily digest for 2026-11-20');
  assert.match(r.html, /<li>Tom &amp; Jerry &lt;3<\/li>\s*<li>Second<\/li>/);
  assert.match(r.html, /Hi Ann &lt;b&gt;,/);
  assert.match(r.html, /<a href="https:\/\/u\.example\/unsubscribe\?t=a\.b&amp;x=1">Unsubscribe<\/a>/);
  assert.match(r.text, /^- Tom & Jerry <3$/m, 'the text part is not HTML: no entities');
  assert.match(r.text, /Unsubscribe: https:\/\/u\.example\/unsubscribe\?t=a\.b&x=1/);
  const none = renderTemplate(t, { ...values, items: [], unsubscribeUrl: '' });
  assert.match(none.text, /Nothing new today\./);
  assert.doesNotMatch(none.html + none.text, /nsubscribe/, 'no link when the email has none');
});

test('a template variable the job does not provide is refused at start-up; loop variables and assigns are not variables', () => {
  const t: EmailTemplate = { name: 't', subject: 'Hi {{ name }}', text: '{% assign n = name %}{{ n }}{% for c in coupons %}{{ c.code }}{% endfor %}', html: '{{ name }}' };
  assert.throws(() => createJobRegistry([{ ...dailyDigest, template: 't' }], { t }), (e: Error) =>
    e instanceof ConfigError && /job 'daily-digest': template 't' uses \{\{coupons\}\} but the job provides only: name, items, window, unsubscribeUrl/.test(e.message));
  assert.equal(createJobRegistry([{ ...dailyDigest, variables: ['name', 'coupons'], template: 't' }], { t }).all().length, 1);
});

test('syntax errors, unknown filters, missing partials and a subject of two lines are refused when compiled, naming the part', () => {
  const base = { name: 'bad', subject: 'S', text: 'T', html: 'H' };
  const cases: Array<[Partial<EmailTemplate>, RegExp]> = [
    [{ html: '{% for x in %}' }, /template 'bad' \(html\): illegal tag: \{% for x in %\}, line:1, col:1/],
    [{ text: '{{ name | shout }}' }, /template 'bad' \(text\): undefined filter: shout/],
    [{ html: "{% render 'nope' %}" }, /template 'bad' \(html\): .*Failed to lookup "nope"/],
    [{ subject: 'one\ntwo' }, /template 'bad': the subject must be one line/],
  ];
  for (const [change, expected] of cases) {
    const t = { ...base, ...change };
    assert.throws(() => templateVariables(t), (e: Error) => e instanceof TemplateError && expected.test(e.message), JSON.stringify(change));
    assert.throws(() => createJobRegistry([{ ...dailyDigest, template: 'bad' }], { bad: t }), (e: Error) => e instanceof ConfigError && expected.test(e.message));
  }
});

test('at send time a missing value, a missing property and a subject line break are TemplateErrors naming names, never values', () => {
  const t = templates['daily-digest']!;
  assert.throws(() => renderTemplate(t, { ...values, items: [] , name: null }), /template 'daily-digest': no value for \{\{name\}\}/);
  assert.throws(() => renderTemplate(t, { ...values, items: [{ headline: 'secret text' }] }), (e: Error) =>
    e instanceof TemplateError && /template 'daily-digest' \(text\): undefined variable: item\.title, line:\d+, col:\d+$/.test(e.message) && !e.message.includes('secret'));
  const s: EmailTemplate = { name: 's', subject: 'Re: {{ topic }}', text: '', html: '' };
  assert.throws(() => renderTemplate(s, { topic: 'x\r\nBcc: evil@example.com' }), /a value put a line break into the subject/);
});

test('a folder of templates: one subfolder per template, shared partials, clear errors for a missing part', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'templates-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'welcome'));
  fs.mkdirSync(path.join(dir, 'partials'));
  fs.writeFileSync(path.join(dir, 'welcome', 'subject.liquid'), 'Welcome, {{ name }}\n');
  fs.writeFileSync(path.join(dir, 'welcome', 'html.liquid'), "<h1>{{ name }}</h1>{% render 'sig', team: team %}");
  fs.writeFileSync(path.join(dir, 'welcome', 'text.liquid'), "{{ name }}\n{% render 'sig', team: team %}");
  fs.writeFileSync(path.join(dir, 'partials', 'sig.liquid'), '-- {{ team }}');
  const loaded = loadTemplateDir(dir);
  assert.deepEqual(Object.keys(loaded), ['welcome']);
  assert.deepEqual(templateVariables(loaded.welcome!), ['name', 'team']);
  assert.deepEqual(renderTemplate(loaded.welcome!, { name: '<Ann>', team: 'R&D' }), { subject: 'Welcome, <Ann>', html: '<h1>&lt;Ann&gt;</h1>-- R&amp;D', text: '<Ann>\n-- R&D' });
  fs.rmSync(path.join(dir, 'welcome', 'text.liquid'));
  assert.throws(() => loadTemplateDir(dir), /template 'welcome': .*text\.liquid is missing \(a template needs subject\.liquid, html\.liquid and text\.liquid\)/);
  assert.throws(() => loadTemplateDir(path.join(dir, 'nope')), /cannot read the template folder/);
});
