/**
 * The custom search attributes a run sets (src/workflows/search-attributes.ts) must exist in the namespace before
 * the first run: a workflow that sets an unknown one fails its workflow task, again and again, and SKIP then sees
 * the tick as running until the run timeout. So the worker checks at start-up and refuses to start with one line
 * saying what is missing and how to add it; `sendonce setup` adds them (self-hosted, dev server); Temporal Cloud
 * adds them with `tcld` or its web UI (docs/operating.md, "Watching runs in the Temporal Web UI").
 */
import type { Client } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './workflows/search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const PROTO_TYPE: Partial<Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType>> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};
/** The CLI's spelling of each type (`--type Keyword`, `--search-attribute NAME=Int`). */
const CLI_TYPE: Partial<Record<SearchAttributeType, string>> = { [SearchAttributeType.KEYWORD]: 'Keyword', [SearchAttributeType.INT]: 'Int' };

/** `NAME=Type` for each attribute: `temporal server start-dev --search-attribute …`, `tcld … --sa …`. */
export const searchAttributeFlags = (): string[] => SEARCH_ATTRIBUTES.map((k) => `${k.name}=${CLI_TYPE[k.type]}`);

/** The `temporal operator search-attribute create` commands that add them (self-hosted): one per type (`--type` is single). */
export function createCommands(namespace: string): string[] {
  const types = [...new Set(SEARCH_ATTRIBUTES.map((k) => k.type))];
  return types.map((type) => {
    const names = SEARCH_ATTRIBUTES.filter((k) => k.type === type).map((k) => `--name ${k.name}`).join(' ');
    return `temporal operator search-attribute create --namespace ${namespace} ${names} --type ${CLI_TYPE[type]}`;
  });
}

/** Attributes the namespace lacks, as `NAME (Type)`; an existing one of another type counts as missing too. */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  return SEARCH_ATTRIBUTES.filter((k) => customAttributes?.[k.name] !== PROTO_TYPE[k.type]).map((k) => `${k.name} (${CLI_TYPE[k.type]})`);
}

/** Add the missing ones (idempotent); returns what was added. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => customAttributes?.[k.name] === undefined);
  const wrongType = SEARCH_ATTRIBUTES.filter((k) => customAttributes?.[k.name] !== undefined && customAttributes[k.name] !== PROTO_TYPE[k.type]);
  if (wrongType.length > 0) {
    throw new Error(`namespace '${namespace}' has ${wrongType.map((k) => k.name).join(', ')} with another type than sendonce needs (${wrongType.map((k) => CLI_TYPE[k.type]).join(', ')}); remove or rename them first`);
  }
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, PROTO_TYPE[k.type]!])),
  });
  return missing.map((k) => k.name);
}

/**
 * Refuse to start a worker in a namespace without the attributes. A server that does not let us list them (a
 * Cloud API key without that permission) is not refused: the caller gets `undefined` and logs a warning.
 */
export async function checkSearchAttributes(client: Client, namespace: string): Promise<'ok' | undefined> {
  let missing: string[];
  try {
    missing = await missingSearchAttributes(client, namespace);
  } catch (err) {
    if (/permission|denied|unauthori[sz]ed|unimplemented/i.test((err as Error).message)) return undefined;
    throw err;
  }
  if (missing.length === 0) return 'ok';
  throw new Error(
    `namespace '${namespace}' lacks the search attributes ${missing.join(', ')} that every run sets: ` +
      `run \`sendonce setup\` (or \`${createCommands(namespace).join(' && ')}\`; Temporal Cloud: docs/operating.md), then start the worker again`,
  );
}
