/**
 * Optional payload encryption: a Temporal PayloadCodec with AES-256-GCM and a key from the environment
 * (PAYLOAD_ENCRYPTION_KEY, 32 bytes base64, or PAYLOAD_ENCRYPTION_KEY_FILE). Worker and clients use it when
 * the key is set, so workflow inputs, activity inputs/results and workflow results are stored in Temporal's
 * history as ciphertext. The Web UI decodes them through a codec endpoint (scripts/codec-server.ts).
 *
 * Layout of `data`: 12-byte random IV ‖ ciphertext ‖ 16-byte GCM tag, over the protobuf-encoded original
 * Payload (metadata included). `encryption-key-id` (first 8 hex chars of SHA-256 of the key) names the key,
 * so a worker with the wrong key fails with a clear message instead of a bare "unsupported state".
 * Failure messages and stack traces are not payloads and are not encrypted (SDK default); sendonce keeps
 * addresses out of them (src/delivery/smtp/classify.ts scrubs SMTP replies).
 */
import crypto from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(keyBase64: string) {
    this.key = Buffer.from(keyBase64, 'base64');
    if (this.key.length !== 32) throw new Error('PAYLOAD_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
    this.keyId = crypto.createHash('sha256').update(this.key).digest('hex').slice(0, 8);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID]: Buffer.from(this.keyId) },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const keyId = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      if (keyId !== this.keyId) {
        throw new Error(`payload was encrypted with key ${keyId || '(none)'}, this process has key ${this.keyId}`);
      }
      const data = Buffer.from(payload.data ?? []);
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The data converter for workers and clients: with the codec when a key is configured, else the default. */
export function dataConverterFor(keyBase64: string | undefined): DataConverter | undefined {
  return keyBase64 ? { payloadCodecs: [new AesGcmPayloadCodec(keyBase64)] } : undefined;
}
