/**
 * How to reach Temporal: @temporalio/envconfig reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * the TEMPORAL_TLS_* variables and config profiles (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), so one worker
 * runs against the local dev server, a self-hosted cluster or Temporal Cloud without code changes.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

export interface TemporalTarget {
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
  namespace: string;
}

export function temporalTarget(env: Record<string, string | undefined> = process.env): TemporalTarget {
  const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const loaded = loadClientConnectConfig({ overrideEnvVars: envVars });
  return { connectionOptions: loaded.connectionOptions, namespace: loaded.namespace ?? 'default' };
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect(target.connectionOptions as Parameters<typeof Connection.connect>[0]);
  return new Client({ connection, namespace: target.namespace });
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}
