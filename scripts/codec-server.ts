/**
 * A codec endpoint for the Temporal Web UI and CLI: decodes (and encodes) payloads with the same key as the
 * worker, so operators can read encrypted inputs and results in the UI while Temporal stores only ciphertext.
 *
 *   PAYLOAD_ENCRYPTION_KEY=… CODEC_CORS_ORIGIN=http://localhost:8080 node --import tsx scripts/codec-server.ts
 *   Web UI: Settings → Codec Server → http://localhost:8888 (or the UI's TEMPORAL_CODEC_ENDPOINT)
 *   CLI:    temporal workflow show --codec-endpoint http://localhost:8888 …
 *
 * Protocol: POST /decode and POST /encode with `{"payloads":[{"metadata":{k:base64},"data":base64}]}`.
 * It holds the key: run it next to the operators (localhost, VPN), never on the public internet, and put
 * authentication in front of it (the UI forwards its Authorization header when configured to).
 */
import http from 'node:http';
import type { Payload } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../src/codec';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export function createCodecServer(codec: AesGcmPayloadCodec, corsOrigin = 'http://localhost:8080'): http.Server {
  return http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', corsOrigin);
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const op = req.method === 'POST' && (req.url === '/decode' || req.url === '/encode') ? req.url.slice(1) : undefined;
    if (!op) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { payloads: JsonPayload[] };
          const payloads = body.payloads.map(fromJson);
          const out = op === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
}

if (require.main === module) {
  const key = process.env.PAYLOAD_ENCRYPTION_KEY;
  if (!key) {
    console.error('codec server: set PAYLOAD_ENCRYPTION_KEY (the same key as the worker)');
    process.exit(1);
  }
  const port = Number(process.env.CODEC_PORT ?? 8888);
  const host = process.env.CODEC_HOST ?? '127.0.0.1';
  createCodecServer(new AesGcmPayloadCodec(key), process.env.CODEC_CORS_ORIGIN).listen(port, host, () =>
    console.log(`codec server on http://${host}:${port} (CORS origin ${process.env.CODEC_CORS_ORIGIN ?? 'http://localhost:8080'})`),
  );
}
