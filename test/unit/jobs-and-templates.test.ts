import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJobRegistry, defaultJobs } from '../../src/jobs';
import { renderTemplate, templateVariables } from '../../src/templates';
import { ConfigError, TemplateError, UnknownJobError } from '../../src/errors';
import { dailyDigest } from '../../src/jobs/daily-digest';

test('the default jobs are valid', () => {
  assert.equal(createJobRegistry(defaultJobs).get('daily-digest').name, 'daily-digest');
});

test('an unknown job is a clear error', () => {
  assert.throws(() => createJobRegistry(defaultJobs).get('weekly'), (e: Error) => e instanceof UnknownJobError && /unknown job 'weekly' \(known: daily-digest, scheduled-notices\)/.test(e.message));
});

test('an unknown template is refused at start-up, naming job and template', () => {
  assert.throws(
    () => createJobRegistry([{ ...dailyDigest, name: 'promo', template: 'promo-v2' }]),
    (e: Error) => e instanceof ConfigError && /job 'promo': unknown template 'promo-v2' \(known: daily-digest, notice\)/.test(e.message),
  );
});

test('a template variable the job does not provide is refused at start-up', () => {
  const templates = { t: { name: 't', subject: 'Hi {{name}}', text: '{{coupon}}', html: '' } };
  assert.throws(() => createJobRegistry([{ ...dailyDigest, template: 't' }], templates), /job 'daily-digest': template 't' uses \{\{coupon\}\}/);
});

test('bad job names and timezones are refused', () => {
  assert.throws(() => createJobRegistry([{ ...dailyDigest, name: 'Daily Digest!' }]), /name must match/);
  assert.throws(() => createJobRegistry([{ ...dailyDigest, window: { granularity: 'daily', timezone: 'Europe/Atlantis' } }]), /unknown timezone 'Europe\/Atlantis'/);
});

test('rendering escapes HTML, refuses line breaks in the subject, and names a missing value', () => {
  const t = { name: 't', subject: 'Hi {{name}}', text: 'Hi {{name}}', html: '<p>{{name}}</p>' };
  assert.deepEqual(templateVariables(t), ['name']);
  const r = renderTemplate(t, { name: '<script>alert(1)</script>' });
  assert.equal(r.html, '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  assert.equal(r.text, 'Hi <script>alert(1)</script>');
  assert.throws(() => renderTemplate(t, { name: 'x\r\nBcc: evil@example.com' }), (e: Error) => e instanceof TemplateError && /line break into the subject/.test(e.message));
  assert.throws(() => renderTemplate(t, {}), /no value for \{\{name\}\}/);
});

test('rate limits are checked at start-up', () => {
  assert.throws(() => createJobRegistry([{ ...dailyDigest, rateLimit: { perSenderPerHour: 0 } }]), /rateLimit.perSenderPerHour must be a whole number ≥ 1, got 0/);
  assert.throws(() => createJobRegistry([{ ...dailyDigest, rateLimit: { bucketMs: 10 } }]), /rateLimit.bucketMs must be a whole number ≥ 1000/);
});
