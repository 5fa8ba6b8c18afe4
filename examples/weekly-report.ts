// A jobs module of your own: SENDONCE_JOBS_MODULE=examples/weekly-report.ts (worker, `schedule create`, CLI).
import { groupedLoader, type JobDefinition } from '../src/jobs';
import type { EmailTemplate } from '../src/templates';

export const templates: Record<string, EmailTemplate> = {
  'weekly-report': {
    name: 'weekly-report',
    subject: 'Your week in review ({{window}})',
    text: 'Hi {{name}}, here is your week.\n',
    html: '<p>Hi {{name}}, here is your week.</p>',
  },
};

export const jobs: JobDefinition[] = [
  {
    name: 'weekly-report',
    template: 'weekly-report',
    variables: ['name'],
    schedule: { every: '15m', catchupWindow: '15m', maxRunDuration: '2h' },
    window: { granularity: 'daily', timezone: 'Europe/Berlin' },
    idOrder: 'bigint', // how ids compare: every page must advance past the cursor in this order
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
