/**
 * How to reach Temporal: @temporalio/envconfig reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * the TEMPORAL_TLS_* variables and config profiles (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), so one worker
 * runs against the local dev server, a self-hosted cluster or Temporal Cloud without code changes.
 * The same target carries the payload codec (PAYLOAD_ENCRYPTION_KEY[_FILE]) so every client and the worker
 * encrypt alike.
 */
import fs from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFor } from './codec';

export interface TemporalTarget {
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
  namespace: string;
  /** Set when payload encryption is configured. */
  dataConverter?: DataConverter;
}

/**
 * Resolve the target from `env` (default process.env), passed to envconfig as its whole environment.
 * Empty values count as unset (compose and .env files write `TEMPORAL_API_KEY=`): envconfig would otherwise
 * take an empty API key as "use TLS with no key". TEMPORAL_GRPC_META_* keep their meaning (empty = remove).
 */
export function temporalTarget(env: Record<string, string | undefined> = process.env): TemporalTarget {
  const envVars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && (e[1] !== '' || e[0].startsWith('TEMPORAL_GRPC_META_'))),
  );
  const loaded = loadClientConnectConfig({ overrideEnvVars: envVars });
  const dataConverter = dataConverterFor(payloadKey(envVars));
  return {
    connectionOptions: loaded.connectionOptions,
    namespace: loaded.namespace ?? 'default',
    ...(dataConverter ? { dataConverter } : {}),
  };
}

function payloadKey(env: Record<string, string>): string | undefined {
  if (env.PAYLOAD_ENCRYPTION_KEY) return env.PAYLOAD_ENCRYPTION_KEY;
  if (env.PAYLOAD_ENCRYPTION_KEY_FILE) return fs.readFileSync(env.PAYLOAD_ENCRYPTION_KEY_FILE, 'utf8').trim();
  return undefined;
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect(target.connectionOptions as Parameters<typeof Connection.connect>[0]);
  return new Client({ connection, namespace: target.namespace, ...(target.dataConverter ? { dataConverter: target.dataConverter } : {}) });
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}
