-- Up Migration

-- Retention (src/retention.ts): rows are pruned by the time they were created; a BRIN index finds old rows in a
-- table written in time order at almost no cost per insert (a b-tree would add a page write to every claim).
CREATE INDEX email_sends_created_brin ON email_sends USING brin (created_at);
CREATE INDEX job_runs_started_brin ON job_runs USING brin (started_at);

-- How far back rows may be gone: backfills of ticks before this are refused (their keys were pruned, so a
-- backfill would send them again). One row; the horizon only moves forward.
CREATE TABLE retention_horizon (
  singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_before timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE retention_horizon;
DROP INDEX job_runs_started_brin;
DROP INDEX email_sends_created_brin;
