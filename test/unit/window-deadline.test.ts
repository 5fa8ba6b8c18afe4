/** When a window ends, and its deadline (src/windows/deadline.ts): pure, checked across DST nights. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { windowDeadline, windowEnd } from '../../src/windows/deadline';

const iso = (d: Date | null) => d?.toISOString() ?? null;

test('a daily window ends at the next local midnight, also on a 23- and a 25-hour day', () => {
  const berlin = { granularity: 'daily' as const, timezone: 'Europe/Berlin' };
  assert.equal(iso(windowEnd(new Date('2026-12-07T08:00:00Z'), berlin)), '2026-12-07T23:00:00.000Z');
  // 2026-03-29: clocks go 02:00 → 03:00 (23 hours); 2026-10-25: 03:00 → 02:00 (25 hours).
  assert.equal(iso(windowEnd(new Date('2026-03-29T07:00:00Z'), berlin)), '2026-03-29T22:00:00.000Z');
  assert.equal(iso(windowEnd(new Date('2026-10-25T07:00:00Z'), berlin)), '2026-10-25T23:00:00.000Z');
  assert.equal(iso(windowEnd(new Date('2026-12-07T09:07:31Z'), { granularity: 'daily', timezone: 'UTC' })), '2026-12-08T00:00:00.000Z');
  // A zone at a quarter-hour offset (+05:45).
  assert.equal(iso(windowEnd(new Date('2026-12-07T03:15:00Z'), { granularity: 'daily', timezone: 'Asia/Kathmandu' })), '2026-12-07T18:15:00.000Z');
});

test('an hourly window ends at the next local hour, and a repeated hour is its own window', () => {
  const berlin = { granularity: 'hourly' as const, timezone: 'Europe/Berlin' };
  assert.equal(iso(windowEnd(new Date('2026-12-07T09:20:00Z'), berlin)), '2026-12-07T10:00:00.000Z');
  // 02:00–03:00 local happens twice: at +02:00 (00:00–01:00Z), then at +01:00 (01:00–02:00Z).
  assert.equal(iso(windowEnd(new Date('2026-10-25T00:30:00Z'), berlin)), '2026-10-25T01:00:00.000Z');
  assert.equal(iso(windowEnd(new Date('2026-10-25T01:30:00Z'), berlin)), '2026-10-25T02:00:00.000Z');
});

test('a tick window lasts one interval; once windows never end', () => {
  assert.equal(iso(windowEnd(new Date('2026-12-07T09:00:00Z'), { granularity: 'tick', timezone: 'UTC' }, 300_000)), '2026-12-07T09:05:00.000Z');
  assert.equal(windowEnd(new Date('2026-12-07T09:00:00Z'), { granularity: 'once', timezone: 'UTC' }), null);
});

test('finishWithin ends a window sooner, never later than its end', () => {
  const job = (finishWithin?: string) => ({ window: { granularity: 'daily' as const, timezone: 'Europe/Berlin', ...(finishWithin ? { finishWithin } : {}) }, schedule: { cron: '0 9 * * *' } });
  const nine = new Date('2026-12-07T08:00:00Z'); // 09:00 in Berlin
  assert.equal(iso(windowDeadline(job(), nine)), '2026-12-07T23:00:00.000Z');
  assert.equal(iso(windowDeadline(job('9h'), nine)), '2026-12-07T17:00:00.000Z'); // 18:00 local
  assert.equal(iso(windowDeadline(job('30h'), nine)), '2026-12-07T23:00:00.000Z');
  const everyFive = { window: { granularity: 'tick' as const, timezone: 'UTC' }, schedule: { every: '5m' } };
  assert.equal(iso(windowDeadline(everyFive, new Date('2026-12-07T09:00:00Z'))), '2026-12-07T09:05:00.000Z');
});
