/** The AES-256-GCM payload codec: round trip, ciphertext at rest, tamper and wrong-key detection, codec server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../src/codec';
import { createCodecServer } from '../../scripts/codec-server';

const key = () => crypto.randomBytes(32).toString('base64');
const secretInput = { jobName: 'daily-digest', note: 'alice@example.com' };

test('round trip: decode(encode(p)) gives back the same payload, metadata included', async () => {
  const codec = new AesGcmPayloadCodec(key());
  const payload = defaultPayloadConverter.toPayload(secretInput);
  const [encoded] = await codec.encode([payload]);
  const [decoded] = await codec.decode([encoded!]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), secretInput);
  assert.equal(Buffer.from(decoded!.metadata!.encoding!).toString(), 'json/plain');
});

test('encoded payloads are ciphertext: no plaintext, encoding binary/encrypted, a fresh IV each time', async () => {
  const codec = new AesGcmPayloadCodec(key());
  const payload = defaultPayloadConverter.toPayload(secretInput);
  const [a, b] = await codec.encode([payload, payload]);
  assert.equal(Buffer.from(a!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
  assert.ok(!Buffer.from(a!.data!).toString('latin1').includes('alice@example.com'));
  assert.ok(!Buffer.from(a!.data!).toString('latin1').includes('json/plain'), 'the original metadata is encrypted too');
  assert.notDeepEqual(a!.data, b!.data);
});

test('a tampered payload or a different key is refused, not silently decoded', async () => {
  const codec = new AesGcmPayloadCodec(key());
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(secretInput)]);
  const tampered = { ...encoded!, data: Uint8Array.from(encoded!.data!, (byte, i) => (i === 20 ? byte ^ 1 : byte)) };
  await assert.rejects(codec.decode([tampered]), /unable to authenticate|unsupported state/i);
  await assert.rejects(new AesGcmPayloadCodec(key()).decode([encoded!]), /encrypted with key [0-9a-f]{8}, this process has key [0-9a-f]{8}/);
});

test('payloads that are not encrypted pass through decode (history written before the key was set)', async () => {
  const codec = new AesGcmPayloadCodec(key());
  const plain = defaultPayloadConverter.toPayload(secretInput);
  assert.deepEqual(await codec.decode([plain]), [plain]);
});

test('a key that is not 32 bytes is refused', () => {
  assert.throws(() => new AesGcmPayloadCodec(crypto.randomBytes(16).toString('base64')), /32 bytes/);
});

test('codec server: /decode gives the Web UI the plaintext payload, with CORS for the UI origin', async () => {
  const codec = new AesGcmPayloadCodec(key());
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(secretInput)]);
  const server = createCodecServer(codec, 'http://127.0.0.1:8080');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const body = {
      payloads: [{
        metadata: Object.fromEntries(Object.entries(encoded!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
        data: Buffer.from(encoded!.data!).toString('base64'),
      }],
    };
    const res = await fetch(`${url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
    const out = (await res.json()) as { payloads: Array<{ data: string }> };
    assert.deepEqual(JSON.parse(Buffer.from(out.payloads[0]!.data, 'base64').toString()), secretInput);
    const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
  } finally {
    server.close();
  }
});
