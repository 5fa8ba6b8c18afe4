/**
 * Secrets: credentials from the environment or from files (*_FILE, Docker/Kubernetes secrets), TLS settings
 * for Postgres, Redis and SMTP, and the promise that the config module never prints a secret — not in its
 * errors, not in the redacted copy the worker logs at start-up.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, redactConfig } from '../../src/config';
import { unsubscribeKeys, unsubscribeSettings } from '../../src/suppressions/settings';
import { createLogger } from '../../src/logger';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-secrets-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const secretFile = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
};

const DB_PASSWORD = 'pg-S3cret-pw';
const REDIS_PASSWORD = 'redis-S3cret-pw';
const SMTP_PASSWORD = 'smtp-S3cret-pw';
const PAYLOAD_KEY = crypto.randomBytes(32).toString('base64');
const SECRETS = [DB_PASSWORD, REDIS_PASSWORD, SMTP_PASSWORD, PAYLOAD_KEY];

const fromFiles = () => ({
  DATABASE_URL_FILE: secretFile('db', `postgres://sendonce:${DB_PASSWORD}@db.internal:5432/sendonce?sslmode=verify-full\n`),
  REDIS_URL_FILE: secretFile('redis', `rediss://default:${REDIS_PASSWORD}@redis.internal:6380\n`),
  SMTP_USER_FILE: secretFile('smtp-user', 'mailer\n'),
  SMTP_PASSWORD_FILE: secretFile('smtp-pw', `${SMTP_PASSWORD}\n`),
  PAYLOAD_ENCRYPTION_KEY_FILE: secretFile('payload-key', `${PAYLOAD_KEY}\n`),
});

test('DATABASE_URL_FILE, REDIS_URL_FILE, SMTP_USER_FILE, SMTP_PASSWORD_FILE, PAYLOAD_ENCRYPTION_KEY_FILE are read (trimmed)', () => {
  const c = loadConfig(fromFiles());
  assert.equal(c.DATABASE_URL, `postgres://sendonce:${DB_PASSWORD}@db.internal:5432/sendonce?sslmode=verify-full`);
  assert.equal(c.REDIS_URL, `rediss://default:${REDIS_PASSWORD}@redis.internal:6380`);
  assert.equal(c.SMTP_USER, 'mailer');
  assert.equal(c.SMTP_PASSWORD, SMTP_PASSWORD);
  assert.equal(c.PAYLOAD_ENCRYPTION_KEY, PAYLOAD_KEY);
});

test('a variable set directly wins over its _FILE', () => {
  const c = loadConfig({ ...fromFiles(), SMTP_PASSWORD: 'direct' });
  assert.equal(c.SMTP_PASSWORD, 'direct');
});

test('an unreadable _FILE is named, with its path, in the one error', () => {
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h', SMTP_PASSWORD_FILE: path.join(dir, 'missing') }),
    /SMTP_PASSWORD_FILE: cannot read .*missing/,
  );
});

test('TLS for each connection: rediss://, Postgres sslmode in the URL, SMTP implicit TLS, STARTTLS required, CA file', () => {
  const c = loadConfig({
    ...fromFiles(),
    SMTP_SECURE: 'true',
    SMTP_PORT: '465',
    SMTP_REQUIRE_TLS: 'true',
    SMTP_TLS_CA_FILE: secretFile('ca.pem', '-----BEGIN CERTIFICATE-----\n'),
  });
  assert.equal(new URL(c.REDIS_URL!).protocol, 'rediss:');
  assert.equal(new URL(c.DATABASE_URL).searchParams.get('sslmode'), 'verify-full');
  assert.equal(c.SMTP_SECURE, true);
  assert.equal(c.SMTP_REQUIRE_TLS, true);
  assert.equal(c.SMTP_TLS_REJECT_UNAUTHORIZED, true, 'certificates are verified unless turned off explicitly');
  assert.equal(loadConfig({ ...fromFiles(), SMTP_TLS_REJECT_UNAUTHORIZED: 'false' }).SMTP_TLS_REJECT_UNAUTHORIZED, false);
});

test('redactConfig: the copy the worker logs holds no password, key or URL credential', () => {
  const c = loadConfig({ ...fromFiles(), DATABASE_URL_FILE: secretFile('db2', `postgres://u:${DB_PASSWORD}@h/db?sslpassword=${DB_PASSWORD}`) });
  const printed = JSON.stringify(redactConfig(c));
  for (const secret of SECRETS) assert.ok(!printed.includes(secret), `redacted config leaks ${secret.slice(0, 6)}…`);
  assert.match(printed, /"SMTP_PASSWORD":"\*\*\*"/);
  assert.match(printed, /"PAYLOAD_ENCRYPTION_KEY":"\*\*\*"/);
  assert.match(printed, /postgres:\/\/u:\*\*\*@h\/db/);
  assert.match(printed, /"SMTP_USER":"mailer"/, 'non-secret values stay readable');
});

test('config errors never print a secret, even a malformed URL that carries one', () => {
  const cases: Array<Record<string, string>> = [
    { DATABASE_URL: `mysql://root:${DB_PASSWORD}@db/x`, REDIS_URL: 'redis://h' },
    { DATABASE_URL: `postgres//root:${DB_PASSWORD}@db/x`, REDIS_URL: 'redis://h' },
    { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: `http://:${REDIS_PASSWORD}@h` },
    { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h', PAYLOAD_ENCRYPTION_KEY: PAYLOAD_KEY.slice(0, 20) },
    { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h', SMTP_PASSWORD: SMTP_PASSWORD, SMTP_PORT: 'x' },
  ];
  for (const env of cases) {
    assert.throws(() => loadConfig(env), (err: Error) => {
      for (const secret of [...SECRETS, PAYLOAD_KEY.slice(0, 20)]) assert.ok(!err.message.includes(secret), `error leaks a secret: ${err.message}`);
      return true;
    });
  }
});

test('the logger censors password, key and body fields even if a caller passes them', () => {
  const out: string[] = [];
  const logger = createLogger('info', { write: (s: string) => void out.push(s) });
  logger.info({ password: SMTP_PASSWORD, smtp: { password: SMTP_PASSWORD, auth: { pass: SMTP_PASSWORD } }, PAYLOAD_ENCRYPTION_KEY: PAYLOAD_KEY, text: 'Hi Alice', html: '<b>x</b>' }, 'oops');
  const line = out.join('');
  for (const secret of [SMTP_PASSWORD, PAYLOAD_KEY, 'Hi Alice', '<b>x</b>']) assert.ok(!line.includes(secret), `log line leaks ${secret}`);
});

// Issue 15: one-click unsubscribe settings — file secrets, rotation, https, and never printed.
test('UNSUBSCRIBE_*: secrets from files (rotation list too), https only off loopback, a URL needs a secret, never printed', () => {
  const current = 'unsub-current-S3cret-0123456789-0123456789';
  const old = 'unsub-old-S3cret-0123456789-0123456789-xyz';
  const base = { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h' };
  const c = loadConfig({
    ...base,
    UNSUBSCRIBE_URL: 'https://mail.example.com/unsubscribe',
    UNSUBSCRIBE_SECRET_FILE: secretFile('unsub', `${current}\n`),
    UNSUBSCRIBE_PREVIOUS_SECRETS_FILE: secretFile('unsub-old', ` ${old} ,\n`),
    UNSUBSCRIBE_PORT: '8089',
  });
  assert.deepEqual(unsubscribeKeys(c), { current, previous: [old] });
  assert.deepEqual(unsubscribeSettings(c), { url: 'https://mail.example.com/unsubscribe', keys: { current, previous: [old] }, tokenTtlMs: 60 * 24 * 3600_000 });
  const printed = JSON.stringify(redactConfig(c));
  assert.ok(!printed.includes(current) && !printed.includes(old), printed);
  assert.equal(unsubscribeSettings(loadConfig(base)), undefined, 'off unless configured');
  assert.equal(loadConfig({ ...base, UNSUBSCRIBE_URL: 'http://127.0.0.1:8089/unsubscribe', UNSUBSCRIBE_SECRET: current }).UNSUBSCRIBE_URL, 'http://127.0.0.1:8089/unsubscribe');
  assert.throws(() => loadConfig({ ...base, UNSUBSCRIBE_URL: 'http://mail.example.com/unsubscribe', UNSUBSCRIBE_SECRET: current }), /UNSUBSCRIBE_URL .*must be an https:\/\/ URL/);
  assert.throws(() => loadConfig({ ...base, UNSUBSCRIBE_URL: 'https://mail.example.com/unsubscribe' }), /UNSUBSCRIBE_SECRET: required with UNSUBSCRIBE_URL or UNSUBSCRIBE_PORT/);
  assert.throws(() => loadConfig({ ...base, UNSUBSCRIBE_SECRET: 'short-S3cret' }), (err: Error) => /UNSUBSCRIBE_SECRET: must be at least 32/.test(err.message) && !err.message.includes('short-S3cret'));
});
