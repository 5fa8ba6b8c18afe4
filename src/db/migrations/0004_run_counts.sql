-- Up Migration

-- One name per count everywhere (src/contract/counts.ts): the job_runs columns are the counts' names in
-- snake_case, and every count of the run summary is stored (ineligible, retries and rate-limit waits were not).
ALTER TABLE job_runs RENAME COLUMN processed_count TO processed;
ALTER TABLE job_runs RENAME COLUMN sent_count TO sent;
ALTER TABLE job_runs RENAME COLUMN skipped_dedupe_count TO deduped;
ALTER TABLE job_runs RENAME COLUMN failed_count TO failed;
ALTER TABLE job_runs RENAME COLUMN dead_lettered_count TO dead;
ALTER TABLE job_runs RENAME COLUMN unknown_count TO unknown;
ALTER TABLE job_runs ADD COLUMN ineligible integer NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN rate_limit_waits integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE job_runs DROP COLUMN rate_limit_waits;
ALTER TABLE job_runs DROP COLUMN retries;
ALTER TABLE job_runs DROP COLUMN ineligible;
ALTER TABLE job_runs RENAME COLUMN unknown TO unknown_count;
ALTER TABLE job_runs RENAME COLUMN dead TO dead_lettered_count;
ALTER TABLE job_runs RENAME COLUMN failed TO failed_count;
ALTER TABLE job_runs RENAME COLUMN deduped TO skipped_dedupe_count;
ALTER TABLE job_runs RENAME COLUMN sent TO sent_count;
ALTER TABLE job_runs RENAME COLUMN processed TO processed_count;
