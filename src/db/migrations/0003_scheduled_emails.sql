-- Up Migration

-- One-off emails, each due at a time (seed 002's restart-safe scheduler). A one-off job (src/jobs/one-off.ts)
-- sends the rows of its template whose due_at is at or before its tick's nominal time; the row id is the
-- recipient id of the key email:{template}:{id}:once, so a crash, restart or backfill never sends a row twice.
-- Rows are written by scheduleEmail() (src/api/scheduled-emails.ts), which checks address and values first.
CREATE TABLE scheduled_emails (
  id         bigserial   PRIMARY KEY,
  email      text        NOT NULL,
  template   text        NOT NULL,
  "values"   jsonb       NOT NULL DEFAULT '{}'::jsonb,
  due_at     timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_emails_template_due ON scheduled_emails (template, due_at);

-- Down Migration
DROP TABLE scheduled_emails;
