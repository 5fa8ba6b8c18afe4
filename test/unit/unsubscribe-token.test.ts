/**
 * Issue 15.1: unsubscribe tokens — signed, expiring, rotatable; a forged, altered, expired or unknown-key token is
 * refused with one clear error; the link and headers of one message (RFC 8058) carry no address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnsubscribeTokenError } from '../../src/errors';
import { addressHash, signUnsubscribeToken, unsubscribeLink, verifyUnsubscribeToken } from '../../src/suppressions';

const OLD = 'old-secret-0123456789-0123456789-0123456789';
const NEW = 'new-secret-0123456789-0123456789-0123456789';
const NOW = new Date('2026-11-30T12:00:00Z');
const inAnHour = Math.floor(NOW.getTime() / 1000) + 3600;
const claims = { jobName: 'daily-digest', recipientId: '42', scope: 'job' as const, expiresAt: inAnHour };
const refused = (what: RegExp) => (e: unknown) => e instanceof UnsubscribeTokenError && what.test((e as Error).message);

test('a token verifies with its key and gives back what was signed', () => {
  const token = signUnsubscribeToken({ current: NEW }, claims);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'base64url, URL-safe as it is');
  assert.deepEqual(verifyUnsubscribeToken({ current: NEW }, token, NOW), claims);
});

test('rotation: a token of the previous key still verifies; once that key is dropped it does not', () => {
  const old = signUnsubscribeToken({ current: OLD }, claims);
  assert.deepEqual(verifyUnsubscribeToken({ current: NEW, previous: [OLD] }, old, NOW), claims);
  assert.throws(() => verifyUnsubscribeToken({ current: NEW }, old, NOW), refused(/unknown key/));
});

test('forged, altered, expired and malformed tokens are refused', () => {
  const token = signUnsubscribeToken({ current: NEW }, claims);
  const [body, sig] = token.split('.') as [string, string];
  const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), r: '43' })).toString('base64url');
  assert.throws(() => verifyUnsubscribeToken({ current: NEW }, `${other}.${sig}`, NOW), refused(/signature does not match/), 'another recipient id');
  const flipped = sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA');
  assert.throws(() => verifyUnsubscribeToken({ current: NEW }, `${body}.${flipped}`, NOW), refused(/signature does not match/));
  const forged = signUnsubscribeToken({ current: 'an-attacker-secret-0123456789-0123456789' }, claims);
  assert.throws(() => verifyUnsubscribeToken({ current: NEW }, forged, NOW), refused(/unknown key/));
  assert.throws(() => verifyUnsubscribeToken({ current: NEW }, token, new Date((inAnHour + 1) * 1000)), refused(/expired/));
  for (const bad of ['', 'abc', 'a.b.c', `${body}.`, '!!.??', `${Buffer.from('{"k":1}').toString('base64url')}.${sig}`]) {
    assert.throws(() => verifyUnsubscribeToken({ current: NEW }, bad, NOW), refused(/malformed|does not match|unknown key/), `'${bad}'`);
  }
});

test('an address-wide token carries the address hash, never the address; the link and headers are RFC 8058 shaped', () => {
  const address = 'Ann.Example@Example.COM';
  const link = unsubscribeLink(
    { url: 'https://mail.example.com/unsubscribe', mailto: 'unsubscribe@example.com', keys: { current: NEW }, tokenTtlMs: 60_000 },
    { jobName: 'daily-digest', recipientId: '42', address, scope: 'address' },
    NOW,
  );
  const url = new URL(link.url);
  assert.equal(url.origin + url.pathname, 'https://mail.example.com/unsubscribe');
  const token = url.searchParams.get('t')!;
  const verified = verifyUnsubscribeToken({ current: NEW }, token, NOW);
  assert.equal(verified.scope, 'address');
  assert.equal(verified.addressHash, addressHash('ann.example@example.com'), 'case and spaces do not matter');
  assert.equal(verified.expiresAt, Math.floor((NOW.getTime() + 60_000) / 1000));
  const everything = JSON.stringify(link) + Buffer.from(token.split('.')[0]!, 'base64url').toString();
  assert.ok(!everything.toLowerCase().includes('ann.example'), `no address in the link or token: ${everything}`);
  assert.deepEqual(link.headers, { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
  assert.equal(link.listUnsubscribe.length, 2, 'the https and the mailto URI');
  assert.equal(link.listUnsubscribe[0], link.url, 'the https URI first');
  assert.match(link.listUnsubscribe[1]!, /^mailto:unsubscribe@example\.com\?subject=unsubscribe%20[A-Za-z0-9_.-]+$/);
});
