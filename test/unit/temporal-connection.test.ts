/**
 * Temporal connection resolution through @temporalio/envconfig, as temporalTarget() passes it the
 * environment: local default, address + namespace, API key (TLS implied), mTLS from files, a TOML profile.
 * Every case passes its own env object, and HOME points at an empty directory, so nothing on this machine
 * (a ~/.config/temporalio/temporal.toml, exported TEMPORAL_* variables) can change the outcome.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalTarget } from '../../src/temporal-connection';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-tconn-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const home = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'config') };
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};
const certPem = '-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----\n';
const keyPem = '-----BEGIN PRIVATE KEY-----\nMIIBfakekey\n-----END PRIVATE KEY-----\n';
const caPem = '-----BEGIN CERTIFICATE-----\nMIIBfakeca\n-----END CERTIFICATE-----\n';

test('local default: no address (the SDK connects to localhost:7233), namespace default, no TLS, no key', () => {
  const t = temporalTarget({ ...home });
  assert.equal(t.connectionOptions.address, undefined);
  assert.equal(t.namespace, 'default');
  assert.equal(t.connectionOptions.tls, undefined);
  assert.equal(t.connectionOptions.apiKey, undefined);
  assert.equal(t.dataConverter, undefined);
});

test('only the env object given is read, never process.env behind its back', () => {
  process.env.TEMPORAL_NAMESPACE = 'leaked-from-process-env';
  try {
    assert.equal(temporalTarget({ ...home }).namespace, 'default');
  } finally {
    delete process.env.TEMPORAL_NAMESPACE;
  }
});

test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (self-hosted cluster)', () => {
  const t = temporalTarget({ ...home, TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'mail-prod' });
  assert.equal(t.connectionOptions.address, 'temporal.internal:7233');
  assert.equal(t.namespace, 'mail-prod');
  assert.equal(t.connectionOptions.tls, undefined);
});

test('TEMPORAL_API_KEY (Temporal Cloud): the key is sent and TLS is implied', () => {
  const t = temporalTarget({
    ...home,
    TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
    TEMPORAL_NAMESPACE: 'sendonce.a1b2c',
    TEMPORAL_API_KEY: 'key-123',
  });
  assert.equal(t.connectionOptions.apiKey, 'key-123');
  assert.equal(t.connectionOptions.tls, true);
  assert.equal(t.namespace, 'sendonce.a1b2c');
});

test('an empty TEMPORAL_API_KEY (compose, .env files) counts as unset, not as "TLS with an empty key"', () => {
  const t = temporalTarget({ ...home, TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_API_KEY: '', TEMPORAL_TLS_CLIENT_CERT_PATH: '' });
  assert.equal(t.connectionOptions.apiKey, undefined);
  assert.equal(t.connectionOptions.tls, undefined);
});

test('mTLS: client certificate and key (and a private CA) read from the paths given', () => {
  const t = temporalTarget({
    ...home,
    TEMPORAL_ADDRESS: 'sendonce.a1b2c.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'sendonce.a1b2c',
    TEMPORAL_TLS_CLIENT_CERT_PATH: write('client.pem', certPem),
    TEMPORAL_TLS_CLIENT_KEY_PATH: write('client.key', keyPem),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: write('ca.pem', caPem),
    TEMPORAL_TLS_SERVER_NAME: 'sendonce.a1b2c.tmprl.cloud',
  });
  const tls = t.connectionOptions.tls;
  assert.ok(tls && typeof tls === 'object', 'TLS config object');
  assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), certPem);
  assert.equal(Buffer.from(tls.clientCertPair!.key).toString(), keyPem);
  assert.equal(Buffer.from(tls.serverRootCACertificate!).toString(), caPem);
  assert.equal(tls.serverNameOverride, 'sendonce.a1b2c.tmprl.cloud');
  assert.equal(t.connectionOptions.apiKey, undefined);
});

test('TEMPORAL_TLS=true without certificates: server-authenticated TLS', () => {
  const t = temporalTarget({ ...home, TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_TLS: 'true' });
  assert.ok(t.connectionOptions.tls && typeof t.connectionOptions.tls === 'object');
  assert.equal(t.connectionOptions.tls.clientCertPair, undefined);
});

test('a TOML profile file (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE), with environment variables on top', () => {
  const file = write(
    'temporal.toml',
    `[profile.default]
address = "127.0.0.1:7233"

[profile.cloud]
address = "sendonce.a1b2c.tmprl.cloud:7233"
namespace = "sendonce.a1b2c"

[profile.cloud.tls]
client_cert_path = "${path.join(dir, 'client.pem')}"
client_key_path = "${path.join(dir, 'client.key')}"

[profile.apikey]
address = "us-east-1.aws.api.temporal.io:7233"
namespace = "sendonce.a1b2c"
api_key = "from-file"
`,
  );
  write('client.pem', certPem);
  write('client.key', keyPem);

  const byDefault = temporalTarget({ ...home, TEMPORAL_CONFIG_FILE: file });
  assert.equal(byDefault.connectionOptions.address, '127.0.0.1:7233');
  assert.equal(byDefault.namespace, 'default');

  const cloud = temporalTarget({ ...home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
  assert.equal(cloud.connectionOptions.address, 'sendonce.a1b2c.tmprl.cloud:7233');
  assert.equal(cloud.namespace, 'sendonce.a1b2c');
  const tls = cloud.connectionOptions.tls;
  assert.ok(tls && typeof tls === 'object');
  assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), certPem);

  const apiKey = temporalTarget({ ...home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'apikey', TEMPORAL_NAMESPACE: 'override.a1b2c' });
  assert.equal(apiKey.connectionOptions.apiKey, 'from-file');
  assert.equal(apiKey.connectionOptions.tls, true);
  assert.equal(apiKey.namespace, 'override.a1b2c', 'an environment variable overrides the profile');

  assert.throws(() => temporalTarget({ ...home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' }), /Profile 'nope' not found/);
});

test('the default profile file under XDG_CONFIG_HOME is found without TEMPORAL_CONFIG_FILE', () => {
  fs.mkdirSync(path.join(dir, 'config', 'temporalio'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "10.0.0.5:7233"\nnamespace = "from-xdg"\n');
  try {
    const t = temporalTarget({ ...home });
    assert.equal(t.connectionOptions.address, '10.0.0.5:7233');
    assert.equal(t.namespace, 'from-xdg');
  } finally {
    fs.rmSync(path.join(dir, 'config'), { recursive: true, force: true });
  }
});

test('PAYLOAD_ENCRYPTION_KEY (or its _FILE) gives clients and the worker the encryption codec', () => {
  const key = crypto.randomBytes(32).toString('base64');
  assert.equal(temporalTarget({ ...home, PAYLOAD_ENCRYPTION_KEY: key }).dataConverter?.payloadCodecs?.length, 1);
  const keyFile = write('payload.key', `${key}\n`);
  assert.equal(temporalTarget({ ...home, PAYLOAD_ENCRYPTION_KEY_FILE: keyFile }).dataConverter?.payloadCodecs?.length, 1);
});
