-- Up Migration

-- A short id per key, for operators (`sendonce unknown resolve <id>`); the key stays the primary key.
ALTER TABLE email_sends ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX email_sends_id ON email_sends (id);
CREATE INDEX email_sends_unknown ON email_sends (job_name, window_key) WHERE state = 'unknown';

-- Who decided what about an `unknown` key, when and why (src/sends/resolve.ts): `sent` closes the key,
-- `resend` sends it once more with the same Message-ID through a run.
CREATE TABLE unknown_resolutions (
  id              bigserial   PRIMARY KEY,
  idempotency_key text        NOT NULL REFERENCES email_sends (idempotency_key) ON DELETE CASCADE,
  resolution      text        NOT NULL CHECK (resolution IN ('sent', 'resend')),
  note            text        NOT NULL,
  resolved_by     text        NOT NULL,
  resolved_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unknown_resolutions_key ON unknown_resolutions (idempotency_key);

-- Down Migration
DROP TABLE unknown_resolutions;
DROP INDEX email_sends_unknown;
DROP INDEX email_sends_id;
ALTER TABLE email_sends DROP COLUMN id;
