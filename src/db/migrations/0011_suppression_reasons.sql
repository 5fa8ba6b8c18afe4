-- Up Migration

-- Every reason is kept (issue 29): a job recipient or an address can be suppressed for several reasons at once,
-- one row each, with its own when (created_at) and why (detail):
--   unsubscribe  the person asked (one-click link, or unsubscribeWithToken);
--   hard_bounce  the mailbox does not exist (5.1.1); a redrive of that dead letter lifts it;
--   complaint    the person reported the mail as spam (recorded through the API or `suppressions add`);
--   manual       an operator (`sendonce suppressions add`), called 'operator' before.
-- Lifting one reason deletes its row only: the others still suppress. Before this, the first reason won, so an
-- unsubscribe after a hard bounce was not written, and a redrive of the bounce then mailed the person again.
-- The rows there are already one per job recipient or address, so one per reason too: every row stays, same id.
ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check;
UPDATE suppressions SET reason = 'manual' WHERE reason = 'operator';
ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check
  CHECK (reason IN ('unsubscribe', 'hard_bounce', 'complaint', 'manual'));
DROP INDEX suppressions_job_recipient;
DROP INDEX suppressions_address;
-- Recording the same reason twice still changes nothing. The lookups of the send path (by job and recipient, by
-- address hash) use the leading columns, as before.
CREATE UNIQUE INDEX suppressions_job_recipient ON suppressions (job_name, recipient_id, reason) WHERE scope = 'job';
CREATE UNIQUE INDEX suppressions_address ON suppressions (address_hash, reason) WHERE scope = 'address';

-- Who lifted which suppression, when and why (src/suppressions/store.ts): the removed row as it was, kept after it
-- is gone from `suppressions`, which stays "who is suppressed now" for the send path. Written by
-- `sendonce suppressions remove` (an unsubscribe or complaint only with --force --note) and by a redrive lifting
-- a hard bounce.
CREATE TABLE suppression_removals (
  id             bigserial   PRIMARY KEY,
  suppression_id bigint      NOT NULL,
  scope          text        NOT NULL,
  job_name       text,
  recipient_id   text,
  address_hash   text,
  address        text,
  reason         text        NOT NULL,
  detail         text,
  created_at     timestamptz NOT NULL,
  removed_by     text        NOT NULL,
  removed_at     timestamptz NOT NULL DEFAULT now(),
  note           text,
  CHECK (reason NOT IN ('unsubscribe', 'complaint') OR btrim(coalesce(note, '')) <> '')
);
CREATE INDEX suppression_removals_job ON suppression_removals (job_name, removed_at);

-- Down Migration
DROP TABLE suppression_removals;
DROP INDEX suppressions_job_recipient;
DROP INDEX suppressions_address;
-- Back to one row per job recipient or address. The reason kept is the one hardest to lift (the old code lifts
-- only hard_bounce rows): unsubscribe, then complaint and manual (both 'operator' again), then hard_bounce.
DELETE FROM suppressions WHERE id IN (
  SELECT id FROM (
    SELECT id, row_number() OVER (
             PARTITION BY scope, CASE WHEN scope = 'job' THEN job_name || E'\n' || recipient_id ELSE address_hash END
             ORDER BY CASE reason WHEN 'unsubscribe' THEN 0 WHEN 'complaint' THEN 1 WHEN 'manual' THEN 2 ELSE 3 END, id) AS n
      FROM suppressions) ranked
   WHERE n > 1);
ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check;
UPDATE suppressions SET reason = 'operator' WHERE reason IN ('complaint', 'manual');
ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check CHECK (reason IN ('unsubscribe', 'hard_bounce', 'operator'));
CREATE UNIQUE INDEX suppressions_job_recipient ON suppressions (job_name, recipient_id) WHERE scope = 'job';
CREATE UNIQUE INDEX suppressions_address ON suppressions (address_hash) WHERE scope = 'address';
