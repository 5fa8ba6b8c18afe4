/**
 * Recipients for the demo job (devkit/demo/daily-digest.ts reads the demo's `users` table and their `digest_items`,
 * devkit/demo/schema.sql): npm start's demo users, every test's and chaos repetition's recipients, the benchmark's
 * 100,000.
 */
import type { Client, Pool } from 'pg';

export interface SeededUser {
  id: string;
  email: string;
}


/** `user1@example.com` … `user<n>@example.com` (`pad` digits: user01 …). */
export function userEmails(n: number, domain = 'example.com', pad = 0): string[] {
  return Array.from({ length: n }, (_, i) => `user${String(i + 1).padStart(pad, '0')}@${domain}`);
}

/**
 * Insert one opted-in user per address, named `<namePrefix><position>`, in the order given (ids ascend with
 * it); returns their ids and addresses in that order.
 */
export async function seedUsers(db: Pool | Client, emails: readonly string[], namePrefix = 'User '): Promise<SeededUser[]> {
  const { rows } = await db.query<SeededUser>(
    `INSERT INTO users (email, name) SELECT e, $2::text || ord FROM unnest($1::text[]) WITH ORDINALITY AS t(e, ord) ORDER BY ord
     RETURNING id::text AS id, email`,
    [emails, namePrefix],
  );
  return rows;
}

/** Demo digest items for the daily digest's list: 0 to 3 per user, so both template branches show. */
export async function seedDigestItems(db: Pool | Client, userIds: readonly string[]): Promise<void> {
  await db.query(
    `INSERT INTO digest_items (user_id, title)
     SELECT u::bigint, 'Demo item ' || n || ' for user ' || u FROM unnest($1::text[]) AS u, generate_series(1, 3) AS n
      WHERE n <= u::bigint % 4`,
    [userIds],
  );
}
