import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idempotencyKey } from '../../src/sends/key';
import { windowFor, assertTimezone } from '../../src/window';

test('daily window uses the business timezone, not UTC', () => {
  const nominal = new Date('2026-11-23T23:30:00Z');
  assert.equal(windowFor(nominal, { granularity: 'daily', timezone: 'UTC' }), '2026-11-23');
  assert.equal(windowFor(nominal, { granularity: 'daily', timezone: 'Europe/Berlin' }), '2026-11-24');
  assert.equal(windowFor(nominal, { granularity: 'daily', timezone: 'America/New_York' }), '2026-11-23');
});

test('hourly window is the local hour; tick window is the UTC instant', () => {
  const nominal = new Date('2026-03-29T00:30:00Z');
  assert.equal(windowFor(nominal, { granularity: 'hourly', timezone: 'Europe/Berlin' }), '2026-03-29T01');
  assert.equal(windowFor(nominal, { granularity: 'tick', timezone: 'UTC' }), '2026-03-29T00:30:00Z');
});

test('once window is the same for every tick, so a row is keyed once for all time', () => {
  const spec = { granularity: 'once', timezone: 'UTC' } as const;
  assert.equal(windowFor(new Date('2026-11-23T23:30:00Z'), spec), 'once');
  assert.equal(windowFor(new Date('2031-01-01T00:00:00Z'), spec), 'once');
  assert.equal(idempotencyKey('notice', '7', windowFor(new Date(), spec)), 'email:notice:7:once');
});

test('the key has the documented shape', () => {
  assert.equal(idempotencyKey('daily-digest', '42', '2026-11-23'), 'email:daily-digest:42:2026-11-23');
});

test('bad inputs are named', () => {
  assert.throws(() => assertTimezone('Mars/Olympus'), /unknown timezone 'Mars\/Olympus'/);
  assert.throws(() => windowFor(new Date('nope'), { granularity: 'daily', timezone: 'UTC' }), /not a valid date/);
});
