import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, redactConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const valid = { DATABASE_URL: 'postgres://u:pw@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };

test('a valid environment gets documented defaults', () => {
  const c = loadConfig(valid);
  assert.equal(c.LOCK_BACKEND, 'redis');
  assert.equal(c.LOCK_UNAVAILABLE, 'skip');
  assert.equal(c.TASK_QUEUE, 'sendonce');
  assert.ok(c.SMTP_SOCKET_TIMEOUT_MS < c.SEND_ATTEMPT_TIMEOUT_MS);
});

test('every problem is named in one error', () => {
  assert.throws(
    () => loadConfig({ LOCK_TTL_MS: 'soon', SMTP_PORT: '99999', LOCK_BACKEND: 'etcd' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /DATABASE_URL \(not set\)/);
      assert.match(err.message, /LOCK_TTL_MS \(got "soon"\)/);
      assert.match(err.message, /SMTP_PORT \(got "99999"\)/);
      assert.match(err.message, /LOCK_BACKEND \(got "etcd"\)/);
      return true;
    },
  );
});

test('cross-field rules: socket timeout below attempt timeout, Redis required for the redis backend', () => {
  assert.throws(
    () => loadConfig({ DATABASE_URL: valid.DATABASE_URL, SMTP_SOCKET_TIMEOUT_MS: '90000', SEND_ATTEMPT_TIMEOUT_MS: '60000' }),
    /SMTP_SOCKET_TIMEOUT_MS \(90000\) must be below SEND_ATTEMPT_TIMEOUT_MS[\s\S]*REDIS_URL: required when LOCK_BACKEND=redis/,
  );
  assert.doesNotThrow(() => loadConfig({ DATABASE_URL: valid.DATABASE_URL, LOCK_BACKEND: 'postgres' }));
});

test('a wrong URL scheme is named, with the password masked', () => {
  assert.throws(() => loadConfig({ ...valid, DATABASE_URL: 'mysql://root:hunter2@db/x' }), (err: Error) => {
    assert.match(err.message, /DATABASE_URL \(got "mysql:\/\/root:\*\*\*@db\/x"\): must be a URL starting with postgres:/);
    assert.doesNotMatch(err.message, /hunter2/);
    return true;
  });
});

test('secrets never appear in errors or in the loggable config', () => {
  assert.throws(() => loadConfig({ ...valid, SMTP_PASSWORD: 'x'.repeat(1), SMTP_PORT: 'abc' }), (err: Error) => !err.message.includes('SMTP_PASSWORD ('));
  const c = loadConfig({ ...valid, DATABASE_URL: 'postgres://u:s3cret@h/db', SMTP_PASSWORD: 's3cret-smtp' });
  const shown = JSON.stringify(redactConfig(c));
  assert.doesNotMatch(shown, /s3cret/);
  assert.match(shown, /"SMTP_PASSWORD":"\*\*\*"/);
});
