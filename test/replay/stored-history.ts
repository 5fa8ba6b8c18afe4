/**
 * How recorded histories are stored (test/replay/histories/*.json): protobufjs's own object form with 64-bit
 * numbers, enums and bytes as strings, read back with the same message class. (Not the proto3 JSON of
 * `temporal workflow show -o json`: the SDK's converter for it needs one protobufjs copy, and this install has
 * three — @temporalio/proto, common and worker each nest their own — so its type check fails.)
 */
import { temporal } from '@temporalio/proto';

const History = temporal.api.history.v1.History;
const AS_JSON = { longs: String, enums: String, bytes: String } as const;

export type StoredHistory = { events?: Array<Record<string, unknown>> | null };

export function historyToStored(history: temporal.api.history.v1.IHistory): StoredHistory {
  return History.toObject(History.fromObject(history), AS_JSON) as StoredHistory;
}

export function historyFromStored(stored: StoredHistory): temporal.api.history.v1.History {
  return History.fromObject(stored);
}
