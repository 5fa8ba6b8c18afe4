-- Up Migration

-- `released`: a claim given back (src/sends/marks.ts, abandon) — its attempt found the recipient ineligible or
-- suppressed and sent nothing. A fresh claim is still deleted, so its key stays open as before; a row with history
-- (earlier attempts, a dead letter) is kept in this state instead of being deleted, open for a later run: claims
-- take it like `failed`. Deleting such rows broke the dead_letters foreign key and erased what they recorded.
-- NOT VALID: every existing row already passed the narrower check, so there is nothing to scan (a scan would hold
-- the table's lock, and every claim, for seconds on a big table); rows written from now on are checked.
ALTER TABLE email_sends DROP CONSTRAINT email_sends_state_check;
ALTER TABLE email_sends ADD CONSTRAINT email_sends_state_check
  CHECK (state IN ('claimed', 'sent', 'failed', 'dead', 'unknown', 'released')) NOT VALID;

-- Down Migration
-- `failed` is the older state closest to `released`: open, taken again by the claim's retry path.
UPDATE email_sends SET state = 'failed' WHERE state = 'released';
ALTER TABLE email_sends DROP CONSTRAINT email_sends_state_check;
ALTER TABLE email_sends ADD CONSTRAINT email_sends_state_check
  CHECK (state IN ('claimed', 'sent', 'failed', 'dead', 'unknown'));
