-- Up Migration

-- One row per idempotency key: the source of truth for "at most once". See src/sends/claims.ts for the
-- state machine: claimed -> sent | failed -> dead, and claimed (attempt lost) -> unknown.
CREATE TABLE email_sends (
  idempotency_key    text PRIMARY KEY,
  job_name           text        NOT NULL,
  template           text        NOT NULL,
  recipient_id       text        NOT NULL,
  window_key         text        NOT NULL,
  state              text        NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'dead', 'unknown')),
  attempts           integer     NOT NULL DEFAULT 1,
  -- resends of an ambiguous send under the resend-once policy (0 or 1)
  resends            integer     NOT NULL DEFAULT 0,
  fence              bigint      NOT NULL,
  run_id             text        NOT NULL,
  message_id         text        NOT NULL,
  -- while claimed: after this (database clock) the attempt is known to be over, outcome unrecorded
  lease_until        timestamptz,
  last_error_type    text,
  last_smtp_code     integer,
  last_smtp_response text,
  reason             text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  sent_at            timestamptz
);
CREATE INDEX email_sends_job_window ON email_sends (job_name, window_key);
CREATE INDEX email_sends_open_claims ON email_sends (lease_until) WHERE state = 'claimed';

CREATE TABLE dead_letters (
  id              bigserial   PRIMARY KEY,
  idempotency_key text        NOT NULL REFERENCES email_sends (idempotency_key),
  job_name        text        NOT NULL,
  recipient_id    text        NOT NULL,
  error_type      text        NOT NULL,
  smtp_code       integer,
  smtp_response   text,
  attempts        integer     NOT NULL,
  run_id          text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  redriven_at     timestamptz
);
CREATE INDEX dead_letters_job ON dead_letters (job_name, created_at);

-- One row per batch run (a workflow chain across continue-as-new), written at start and at the end.
CREATE TABLE job_runs (
  run_id               text        PRIMARY KEY,
  workflow_id          text        NOT NULL,
  job_name             text        NOT NULL,
  scheduled_at         timestamptz NOT NULL,
  window_key           text        NOT NULL,
  started_at           timestamptz NOT NULL DEFAULT now(),
  finished_at          timestamptz,
  duration_ms          integer,
  outcome              text        NOT NULL DEFAULT 'running',
  fence                bigint,
  processed_count      integer     NOT NULL DEFAULT 0,
  sent_count           integer     NOT NULL DEFAULT 0,
  skipped_dedupe_count integer     NOT NULL DEFAULT 0,
  failed_count         integer     NOT NULL DEFAULT 0,
  dead_lettered_count  integer     NOT NULL DEFAULT 0,
  unknown_count        integer     NOT NULL DEFAULT 0,
  error                text
);
CREATE INDEX job_runs_job_started ON job_runs (job_name, started_at DESC);

-- The newest fence handed out per job. It only grows, and lives in Postgres so it survives a Redis restart.
CREATE TABLE job_fences (
  job_name      text   PRIMARY KEY,
  current_fence bigint NOT NULL
);

-- The Postgres lock backend (LOCK_BACKEND=postgres): a lease row, not a session advisory lock, so it works
-- through a pool and behind transaction-pooling proxies.
CREATE TABLE job_leases (
  job_name     text        PRIMARY KEY,
  holder_token text        NOT NULL,
  expires_at   timestamptz NOT NULL
);

-- Down Migration
DROP TABLE job_leases;
DROP TABLE job_fences;
DROP TABLE job_runs;
DROP TABLE dead_letters;
DROP TABLE email_sends;
