-- Up Migration

-- The lock a run holds (its token), so that the reaper (src/runs/reaper.ts) can release it — token-checked —
-- when the run ended without workflow code running (terminated, timed out), and `sendonce lock status` can
-- name the run that holds a lock.
ALTER TABLE job_runs ADD COLUMN lock_token text;
-- Why a run was skipped, stopped or failed (locked, lock_unavailable, time_budget, recipient_page_out_of_order…).
ALTER TABLE job_runs ADD COLUMN reason text;
-- The reaper looks for rows still `running`.
CREATE INDEX job_runs_running ON job_runs (job_name) WHERE outcome = 'running';

-- Down Migration
DROP INDEX job_runs_running;
ALTER TABLE job_runs DROP COLUMN reason;
ALTER TABLE job_runs DROP COLUMN lock_token;
