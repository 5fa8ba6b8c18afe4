/**
 * Same email, same keys: a window is sent under the template its first run used. Keys name the template
 * (key.ts), so a run with the template renamed mid-window would find none of the window's keys and send everyone
 * again. The template is recorded per job and window (job_windows) by the window's first run; a window that began
 * before the table existed is recorded from one of its keys.
 */
import type { Pool } from 'pg';

/**
 * One statement: the window's recorded template, recording `template` (or, for an older window, the one its keys
 * carry) when there is none yet. Null only when a concurrent first run recorded it a moment ago: read again.
 */
const RECORD_OR_READ = `
  WITH recorded AS (
    SELECT template FROM sendonce.job_windows WHERE job_name = $1 AND window_key = $2
  ), from_keys AS (
    SELECT template FROM sendonce.email_sends
     WHERE job_name = $1 AND window_key = $2 AND NOT EXISTS (SELECT 1 FROM recorded)
     LIMIT 1
  ), inserted AS (
    INSERT INTO sendonce.job_windows (job_name, window_key, template)
    SELECT $1, $2, COALESCE((SELECT template FROM from_keys), $3) WHERE NOT EXISTS (SELECT 1 FROM recorded)
    ON CONFLICT (job_name, window_key) DO NOTHING
    RETURNING template
  )
  SELECT COALESCE((SELECT template FROM recorded), (SELECT template FROM inserted)) AS template`;

/** The template the window's keys are made with (recorded now if this is the window's first run). */
export async function windowTemplate(pool: Pool, jobName: string, window: string, template: string): Promise<string> {
  // The second try reads the concurrent first run's row (it is committed: its insert is what made ours a no-op).
  for (let tries = 1; ; tries++) {
    const { rows } = await pool.query<{ template: string | null }>(RECORD_OR_READ, [jobName, window, template]);
    if (rows[0]?.template) return rows[0].template;
    if (tries === 3) throw new Error(`job_windows: no template recorded for job '${jobName}', window ${window}, after ${tries} tries`);
  }
}
