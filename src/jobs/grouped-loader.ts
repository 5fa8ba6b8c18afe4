/**
 * A job's `loadRecipient` built from a query for many ids: concurrent sends on one worker share one statement
 * (group commit, src/db/coalesce.ts) instead of one round trip each. The result is still one ordinary
 * `loadRecipient`, so a job that spreads another and overrides `loadRecipient` replaces it whole.
 */
import type { Pool } from 'pg';
import { Coalescer } from '../db/coalesce';
import { perPool } from '../db/per-pool';
import type { Recipient } from './types';

/** `loadMany` returns the eligible recipients among `ids`, in any order; a missing id means not eligible. */
export function groupedLoader(
  loadMany: (db: Pool, ids: string[]) => Promise<Recipient[]>,
): (db: Pool, id: string) => Promise<Recipient | null> {
  const many = async (db: Pool, ids: string[]) => {
    const found = new Map((await loadMany(db, ids)).map((r) => [r.id, r]));
    return ids.map((id) => found.get(id) ?? null);
  };
  const loaders = perPool((db) => new Coalescer((ids: string[]) => many(db, ids), async (one) => (await many(db, [one]))[0] ?? null));
  return (db, id) => loaders(db).run(id);
}
