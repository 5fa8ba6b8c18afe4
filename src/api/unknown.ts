/**
 * Deciding about `unknown` keys — sends whose outcome nobody can know (the connection broke after the message was
 * handed over, or a worker died between SMTP and recording). Never resent by default; a person decides:
 * `sent` (take it as delivered) or `resend` (send it once more, same Message-ID, through a run like a redrive).
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { withTransaction } from '../db/transaction';
import { UnknownResolutionError } from '../errors';
import { resolveUnknownKeys, type UnknownResolution } from '../sends/resolve';
import { startReopenedRuns, type RedriveRun, type ReopenedRunsRequest } from './reopened-runs';

export interface UnknownKeyRow {
  id: number;
  jobName: string;
  recipientId: string;
  window: string;
  /** Why it is unknown (e.g. the connection dropped after DATA; an attempt died with its claim open). */
  reason: string | null;
  lastErrorType: string | null;
  attempts: number;
  updatedAt: string;
}

export async function listUnknown(pool: Pool, opts: { job?: string; window?: string; limit?: number } = {}): Promise<UnknownKeyRow[]> {
  const { rows } = await pool.query<UnknownKeyRow>(
    `SELECT id::int AS id, job_name AS "jobName", recipient_id AS "recipientId", window_key AS "window", reason,
            last_error_type AS "lastErrorType", attempts,
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "updatedAt"
       FROM sendonce.email_sends
      WHERE state = 'unknown' AND ($1::text IS NULL OR job_name = $1) AND ($2::text IS NULL OR window_key = $2)
      ORDER BY id LIMIT $3`,
    [opts.job ?? null, opts.window ?? null, opts.limit ?? 1_000],
  );
  return rows;
}

export interface ResolveUnknownRequest extends ReopenedRunsRequest {
  ids: number[];
  as: UnknownResolution;
  /** Why (kept with the decision). */
  note: string;
  /** Who decided; default the OS user running this. */
  by?: string;
}

export interface ResolveUnknownResult {
  resolved: number[];
  as: UnknownResolution;
  /** With `resend`: the runs that send the keys again. */
  runs: RedriveRun[];
}

/** All or nothing: every id must name a key that is still unknown, or nothing changes. */
export async function resolveUnknown(client: Client, pool: Pool, req: ResolveUnknownRequest): Promise<ResolveUnknownResult> {
  if (req.ids.length === 0) throw new UnknownResolutionError('name the unknown keys to resolve (ids from `sendonce unknown list`)');
  if (req.as !== 'sent' && req.as !== 'resend') throw new UnknownResolutionError(`--as must be 'sent' or 'resend', got '${String(req.as)}'`);
  if (!req.note?.trim()) throw new UnknownResolutionError('--note is required: say why (it is kept with the decision)');
  const by = req.by ?? process.env.USER ?? os.userInfo().username;
  const resolved = await withTransaction(pool, async (db) => {
    const { rows } = await db.query<{ id: number; state: string; job_name: string }>(
      'SELECT id::int AS id, state, job_name FROM sendonce.email_sends WHERE id = ANY($1::bigint[]) FOR UPDATE',
      [req.ids],
    );
    const missing = req.ids.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length > 0) throw new UnknownResolutionError(`no key with id ${missing.join(', ')} (see \`sendonce unknown list\`)`);
    const settled = rows.filter((r) => r.state !== 'unknown');
    if (settled.length > 0) throw new UnknownResolutionError(`not unknown any more: ${settled.map((r) => `${r.id} (${r.state})`).join(', ')}; nothing was changed`);
    for (const r of rows) req.jobs.get(r.job_name);
    return resolveUnknownKeys(db, req.ids, req.as, req.note.trim(), by);
  });
  if (req.as === 'sent') return { resolved: resolved.map((k) => k.id), as: req.as, runs: [] };
  const { rows: ticks } = await pool.query<{ run_id: string; scheduled_at: Date }>(
    'SELECT run_id, scheduled_at FROM sendonce.job_runs WHERE run_id = ANY($1::text[])',
    [resolved.map((k) => k.runId)],
  );
  const tickOf = new Map(ticks.map((t) => [t.run_id, t.scheduled_at]));
  const keys = resolved.map((k) => {
    const scheduledAt = tickOf.get(k.runId);
    if (!scheduledAt) throw new UnknownResolutionError(`key ${k.id}: the run that left it unknown is missing from job_runs; it is reopened: a run of its tick (a backfill) sends it`);
    return { jobName: k.jobName, recipientId: k.recipientId, window: k.window, scheduledAt };
  });
  return { resolved: resolved.map((k) => k.id), as: req.as, runs: await startReopenedRuns(client, req, keys, 'resend') };
}
