-- Up Migration

-- dead_letters references email_sends by key, and Postgres does not index the referencing side of a foreign key:
-- every email_sends row deleted by retention (src/retention.ts) then checked dead_letters by a sequential scan.
-- With the dead letters of 10 million sends (one in a thousand) a prune batch of 5,000 rows held its row locks
-- 8–14 s, 97 % of it in that check (BENCHMARKS.md, big tables). The dead-letter branch's "no open letter for this
-- key yet" check (src/sends/dead-letters.ts) reads by key too.
CREATE INDEX dead_letters_key ON dead_letters (idempotency_key);

-- Down Migration
DROP INDEX dead_letters_key;
