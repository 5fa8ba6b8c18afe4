import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJobRegistry, defaultJobs } from '../../src/jobs';
import { renderTemplate, templateVariables } from '../../src/templates';
import { ConfigError, TemplateError, UnknownJobError } from '../../src/errors';
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { jobs as demoJobs } from '../../devkit/demo/jobs';

test('the default jobs are the built-in one-off notices only; the demo jobs module is valid', () => {
  // The daily digest reads the demo's tables, which a deployment does not have (issue 25): it is the devkit's.
  assert.deepEqual(createJobRegistry().all().map((j) => j.name), ['scheduled-notices']);
  assert.deepEqual(defaultJobs.map((j) => j.name), ['scheduled-notices']);
  assert.equal(createJobRegistry(demoJobs).get('daily-digest').name, 'daily-digest');
});

test('an unknown job is a clear error', () => {
  assert.throws(() => createJobRegistry(demoJobs).get('weekly'), (e: Error) => e instanceof UnknownJobError && /unknown job 'weekly' \(known: daily-digest, scheduled-notices\)/.test(e.message));
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

// Issue 19: definitions that would send wrongly are refused at start-up, each with one clear line.
test('two jobs sending one template in windows of the same granularity are refused (they would share keys)', () => {
  const second = { ...dailyDigest, name: 'digest-eu', window: { granularity: 'daily' as const, timezone: 'Europe/Berlin' } };
  assert.throws(
    () => createJobRegistry([dailyDigest, second]),
    /jobs 'daily-digest' and 'digest-eu' both send template 'daily-digest' in daily windows: they would share idempotency keys and 'digest-eu' would send nothing/,
  );
  // Another granularity has other labels, so other keys: allowed.
  assert.equal(createJobRegistry([dailyDigest, { ...second, window: { granularity: 'hourly', timezone: 'UTC' } }]).all().length, 2);
});

test('a cron schedule in another timezone than the window is refused unless the job says it means it', () => {
  const berlinWindow = { granularity: 'daily' as const, timezone: 'Europe/Berlin' };
  const cron = { ...dailyDigest, schedule: { cron: '0 9 * * *' }, window: berlinWindow };
  assert.throws(() => createJobRegistry([cron]), /its schedule runs in UTC but its window counts in Europe\/Berlin; set schedule.timezone to 'Europe\/Berlin'/);
  assert.equal(createJobRegistry([{ ...cron, schedule: { cron: '0 9 * * *', timezone: 'Europe/Berlin' } }]).all().length, 1);
  assert.equal(createJobRegistry([{ ...cron, window: { ...berlinWindow, scheduleTimezoneDiffers: true } }]).all().length, 1);
  // An interval schedule is epoch-aligned: no schedule timezone, nothing to compare.
  assert.equal(createJobRegistry([{ ...dailyDigest, window: berlinWindow }]).all().length, 1);
});

test('a time budget that does not end before the run timeout, or is not a duration, is refused', () => {
  assert.throws(() => createJobRegistry([{ ...dailyDigest, timeBudget: '2h' }]), /timeBudget 2h must be shorter than schedule.maxRunDuration 1h/);
  assert.throws(() => createJobRegistry([{ ...dailyDigest, timeBudget: 'soon' }]), /timeBudget 'soon' is not a duration/);
  assert.equal(createJobRegistry([{ ...dailyDigest, timeBudget: '45m' }]).all().length, 1);
});
