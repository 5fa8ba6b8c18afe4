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

// Issue 19, point 5: DST-correct windows. Every instant maps to one label; two instants an hour apart never
// share an hourly label; the hour repeated at the autumn change carries its UTC offset.
const hourly = (zone: string) => (iso: string) => windowFor(new Date(iso), { granularity: 'hourly', timezone: zone });
const daily = (zone: string) => (iso: string) => windowFor(new Date(iso), { granularity: 'daily', timezone: zone });

test('Europe/Berlin fall-back (2026-10-25): the repeated hour 02 gets two labels, by offset', () => {
  const h = hourly('Europe/Berlin');
  assert.equal(h('2026-10-24T23:30:00Z'), '2026-10-25T01');
  assert.equal(h('2026-10-25T00:00:00Z'), '2026-10-25T02+02:00');
  assert.equal(h('2026-10-25T00:30:00Z'), '2026-10-25T02+02:00');
  assert.equal(h('2026-10-25T01:00:00Z'), '2026-10-25T02+01:00');
  assert.equal(h('2026-10-25T01:30:00Z'), '2026-10-25T02+01:00');
  assert.equal(h('2026-10-25T02:00:00Z'), '2026-10-25T03');
  const d = daily('Europe/Berlin');
  assert.equal(d('2026-10-24T21:59:59Z'), '2026-10-24');
  assert.equal(d('2026-10-24T22:00:00Z'), '2026-10-25', 'midnight at +02:00');
  assert.equal(d('2026-10-25T22:59:59Z'), '2026-10-25', 'a 25-hour day is one window');
  assert.equal(d('2026-10-25T23:00:00Z'), '2026-10-26', 'midnight at +01:00');
});

test('Europe/Berlin spring-forward (2026-03-29): hour 02 does not exist, 01 is followed by 03', () => {
  const h = hourly('Europe/Berlin');
  assert.equal(h('2026-03-29T00:59:59Z'), '2026-03-29T01');
  assert.equal(h('2026-03-29T01:00:00Z'), '2026-03-29T03');
  const d = daily('Europe/Berlin');
  assert.equal(d('2026-03-28T23:00:00Z'), '2026-03-29');
  assert.equal(d('2026-03-29T21:59:59Z'), '2026-03-29', 'a 23-hour day is one window');
  assert.equal(d('2026-03-29T22:00:00Z'), '2026-03-30');
});

test('America/New_York fall-back (2026-11-01) and spring-forward (2026-03-08)', () => {
  const h = hourly('America/New_York');
  assert.equal(h('2026-11-01T04:59:59Z'), '2026-11-01T00');
  assert.equal(h('2026-11-01T05:00:00Z'), '2026-11-01T01-04:00');
  assert.equal(h('2026-11-01T06:00:00Z'), '2026-11-01T01-05:00');
  assert.equal(h('2026-11-01T07:00:00Z'), '2026-11-01T02');
  assert.equal(h('2026-03-08T06:59:59Z'), '2026-03-08T01');
  assert.equal(h('2026-03-08T07:00:00Z'), '2026-03-08T03');
  const d = daily('America/New_York');
  assert.equal(d('2026-11-01T03:59:59Z'), '2026-10-31');
  assert.equal(d('2026-11-01T04:00:00Z'), '2026-11-01');
  assert.equal(d('2026-11-02T04:59:59Z'), '2026-11-01');
  assert.equal(d('2026-11-02T05:00:00Z'), '2026-11-02');
});

test('over a whole year: instants an hour apart never share an hourly label, and a label is one contiguous span', () => {
  const HOUR = 3_600_000;
  const labelsOf = (zone: string, from: number, to: number, step: number) => {
    const labels: string[] = [];
    for (let t = from; t < to; t += step) labels.push(windowFor(new Date(t), { granularity: 'hourly', timezone: zone }));
    return labels;
  };
  const check = (zone: string, from: number, labels: string[], step: number) => {
    const perHour = HOUR / step;
    const lastSeen = new Map<string, number>();
    labels.forEach((label, i) => {
      const at = new Date(from + i * step).toISOString();
      if (i + perHour < labels.length) assert.notEqual(label, labels[i + perHour], `${zone}: ${at} and an hour later share '${label}'`);
      const prev = lastSeen.get(label);
      assert.ok(prev === undefined || prev === i - 1, `${zone}: label '${label}' comes back after a gap at ${at}`);
      lastSeen.set(label, i);
    });
  };
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'UTC']) {
    // Every hour of the year; then every 5 minutes on the days whose offset changes (where labels can go wrong).
    const year = labelsOf(zone, start, start + 365 * 24 * HOUR, HOUR);
    check(zone, start, year, HOUR);
    const offset = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'longOffset' });
    const offsetAt = (i: number) => offset.formatToParts(new Date(start + i * HOUR)).find((p) => p.type === 'timeZoneName')?.value;
    const changeDays = new Set<number>();
    for (let i = 1; i < year.length; i++) if (offsetAt(i) !== offsetAt(i - 1)) changeDays.add(Math.floor(i / 24));
    if (zone !== 'UTC') assert.equal(changeDays.size, 2, `${zone} changes its offset twice a year`);
    for (const day of changeDays) {
      const from = start + day * 24 * HOUR - 12 * HOUR;
      check(zone, from, labelsOf(zone, from, from + 48 * HOUR, 5 * 60_000), 5 * 60_000);
    }
  }
});
