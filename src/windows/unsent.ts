/**
 * Who on a window's recipient list has not been sent yet: walked page by page with the run's own page reader
 * (src/activities/fetch-recipient-page.ts), so "unsent" means what a run would send — finished keys (sent, dead,
 * unknown) and recipients unsubscribed from the job are left out. An open claim (`claimed`: a send that may
 * have reached the server when its run died) is left out too: it becomes `unknown`, never unsent.
 * Suppressed addresses are only known to the send, so an unsent recipient may still be one a run would skip.
 */
import type { Pool } from 'pg';
import { readRecipientPage } from '../activities/fetch-recipient-page';
import type { JobDefinition } from '../jobs';
import { keyFor } from '../sends';

const PAGE = 1_000;

/** Calls `onPage` with each page's unsent ids (never empty); returns how many there were in all. */
export async function walkUnsent(
  pool: Pool,
  job: JobDefinition,
  w: { window: string; scheduledAt: Date },
  onPage: (ids: string[]) => Promise<void> = async () => undefined,
): Promise<number> {
  let afterId: string | null = null;
  let total = 0;
  for (;;) {
    const page = await readRecipientPage(
      pool,
      job,
      { jobName: job.name, runId: '', afterId, limit: PAGE, window: w.window, scheduledAt: w.scheduledAt.toISOString() },
      { filterFinished: true },
    );
    const unsent = await withoutOpenClaims(pool, job, w.window, page.toSend);
    if (unsent.length > 0) {
      total += unsent.length;
      await onPage(unsent);
    }
    if (page.size < PAGE || page.lastId === null) return total;
    afterId = page.lastId;
  }
}

async function withoutOpenClaims(pool: Pool, job: JobDefinition, window: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return ids;
  const keys = ids.map((id) => keyFor(job, id, window));
  const { rows } = await pool.query<{ recipient_id: string }>(
    `SELECT recipient_id FROM sendonce.email_sends WHERE idempotency_key = ANY($1::text[]) AND state = 'claimed'`,
    [keys],
  );
  const open = new Set(rows.map((r) => r.recipient_id));
  return ids.filter((id) => !open.has(id));
}
