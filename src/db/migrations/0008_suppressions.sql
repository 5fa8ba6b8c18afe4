-- Up Migration

-- Deliverability (src/suppressions/): who must not be mailed any more, and why.
--   scope 'job':     this job's recipient unsubscribed (job_name + recipient_id); checked per page, by id.
--   scope 'address': no mail at all to this address — unsubscribed from everything, a hard bounce (5.1.1), or an
--                    operator. Keyed by the SHA-256 of the lower-cased address (an unsubscribe link carries only
--                    the hash, never the address); `address` is kept in clear when it is known (bounce, operator)
--                    so operators can read the list. job_name/recipient_id then say where it was learned.
-- One row per job recipient or per address (the partial unique indexes): recording twice changes nothing.
CREATE TABLE suppressions (
  id           bigserial   PRIMARY KEY,
  scope        text        NOT NULL CHECK (scope IN ('job', 'address')),
  job_name     text,
  recipient_id text,
  address_hash text,
  address      text,
  reason       text        NOT NULL CHECK (reason IN ('unsubscribe', 'hard_bounce', 'operator')),
  detail       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 'job' AND job_name IS NOT NULL AND recipient_id IS NOT NULL)
      OR (scope = 'address' AND address_hash IS NOT NULL))
);
CREATE UNIQUE INDEX suppressions_job_recipient ON suppressions (job_name, recipient_id) WHERE scope = 'job';
CREATE UNIQUE INDEX suppressions_address ON suppressions (address_hash) WHERE scope = 'address';

-- The run count of recipients skipped as suppressed (src/contract/counts.ts).
ALTER TABLE job_runs ADD COLUMN suppressed integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE job_runs DROP COLUMN suppressed;
DROP TABLE suppressions;
