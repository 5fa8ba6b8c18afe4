// A jobs module of your own: SENDONCE_JOBS_MODULE=examples/weekly-report.ts (worker, `schedule create`, CLI).
import path from 'node:path';
import { groupedLoader, scheduledNotices, type JobDefinition } from '../src/jobs';
import { loadTemplateDir } from '../src/templates';

// Its own templates, from its own folder: examples/templates/weekly-report/{subject,html,text}.liquid (Liquid).
export const templates = loadTemplateDir(path.join(__dirname, 'templates'));

export const jobs: JobDefinition[] = [
  // A jobs module replaces the built-in list: keep the one-off emails (`sendonce email schedule`) if you use them.
  scheduledNotices,
  {
    name: 'weekly-report',
    template: 'weekly-report',
    variables: ['name'],
    schedule: { every: '15m', catchupWindow: '15m', maxRunDuration: '2h' },
    window: { granularity: 'daily', timezone: 'Europe/Berlin' },
    idOrder: 'bigint', // how ids compare: every page must advance past the cursor in this order
    unsubscribe: { scope: 'job' }, // the default: one-click unsubscribe stops this job's emails only
    async recipientPage(db, { afterId, limit }) {
      // Keyset: compare and order the id in its OWN type. `SELECT id::text AS id … ORDER BY id` would order '10'
      // before '9' and skip people; sendonce refuses such a page (the run fails: recipient_page_out_of_order).
      const { rows } = await db.query<{ id: string }>(
        `SELECT users.id::text AS id FROM users
          WHERE digest_opt_in AND ($1::bigint IS NULL OR users.id > $1::bigint)
          ORDER BY users.id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((r) => r.id);
    },
    loadRecipient: groupedLoader(async (db, ids) => {
      const { rows } = await db.query<{ id: string; email: string; name: string }>(
        'SELECT id::text AS id, email, name FROM users WHERE id = ANY($1::bigint[]) AND digest_opt_in',
        [ids],
      );
      return rows.map((r) => ({ id: r.id, email: r.email, displayName: r.name, values: { name: r.name } }));
    }),
  },
];
