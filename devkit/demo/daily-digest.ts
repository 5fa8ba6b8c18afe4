import type { Pool } from 'pg';
import { groupedLoader } from '../../src/jobs/grouped-loader';
import type { JobDefinition, Recipient } from '../../src/jobs/types';

/**
 * The demo job: every 5 minutes, each opted-in user gets at most one digest per UTC day, listing their items
 * (digest_items; the template loops over them: src/templates/builtin/daily-digest/). It reads the demo's own tables
 * (devkit/demo/schema.sql), which play an application's: unqualified names, the database's search_path — as a job of
 * yours reads your tables. sendonce's tables are in the `sendonce` schema and never in the way (docs/adding-a-job.md).
 */
export const dailyDigest: JobDefinition = {
  name: 'daily-digest',
  template: 'daily-digest',
  variables: ['name', 'items'],
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

/** At most this many items per digest: an email, not an archive. */
const MAX_ITEMS = 20;

/** The opted-in users among `ids` with their latest items: one query for the recipients of many concurrent sends. */
async function loadRecipients(db: Pool, ids: string[]): Promise<Recipient[]> {
  const { rows } = await db.query<{ id: string; email: string; name: string; items: Array<{ title: string }> }>(
    `SELECT u.id::text AS id, u.email, u.name,
            COALESCE((SELECT json_agg(json_build_object('title', i.title) ORDER BY i.id)
                        FROM (SELECT id, title FROM digest_items WHERE user_id = u.id ORDER BY id DESC LIMIT $2) i), '[]') AS items
       FROM users u WHERE u.id = ANY($1::bigint[]) AND u.digest_opt_in`,
    [ids, MAX_ITEMS],
  );
  return rows.map((row) => ({ id: row.id, email: row.email, displayName: row.name, values: { name: row.name, items: row.items } }));
}
