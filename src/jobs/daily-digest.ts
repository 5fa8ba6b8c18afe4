import type { Pool } from 'pg';
import { groupedLoader } from './grouped-loader';
import type { JobDefinition, Recipient } from './types';

/** The demo job: every 5 minutes, each opted-in user gets at most one digest per UTC day. */
export const dailyDigest: JobDefinition = {
  name: 'daily-digest',
  template: 'daily-digest',
  variables: ['name'],
  schedule: { every: '5m', catchupWindow: '5m', maxRunDuration: '1h' },
  window: { granularity: 'daily', timezone: 'UTC' },
  async recipientPage(db, { afterId, limit }) {
    const { rows } = await db.query<{ id: string }>(
      // Order and compare on the bigint column (users.id), not the text alias: '10' sorts before '9'.
      `SELECT users.id::text AS id FROM users
        WHERE digest_opt_in AND ($1::bigint IS NULL OR users.id > $1::bigint)
        ORDER BY users.id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => r.id);
  },
  loadRecipient: groupedLoader(loadRecipients),
};

/** The opted-in users among `ids`: one query for the recipients of many concurrent sends. */
async function loadRecipients(db: Pool, ids: string[]): Promise<Recipient[]> {
  const { rows } = await db.query<{ id: string; email: string; name: string }>(
    'SELECT id::text AS id, email, name FROM users WHERE id = ANY($1::bigint[]) AND digest_opt_in',
    [ids],
  );
  return rows.map((row) => ({ id: row.id, email: row.email, displayName: row.name, values: { name: row.name } }));
}
