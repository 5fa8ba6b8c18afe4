-- Up Migration

-- Every sendonce table in its own schema, `sendonce` (issue 25): the application's database keeps `public` for its
-- own tables, so an app table named `suppressions` or `job_runs` neither stops sendonce from starting nor is read
-- by it. Its SQL names its tables in full (sendonce.email_sends; src/db/migrate.ts says why not a search_path).
--
-- A new database has them there already: the migrations run with search_path "sendonce, public" (src/db/migrate.ts),
-- so 0001–0014 created them in `sendonce`, and this finds nothing to move. A deployment from before has them in
-- `public`: each is moved with ALTER TABLE … SET SCHEMA, which takes its indexes, constraints (foreign keys
-- included, both ways), its owned sequences (bigserial, identity) and its rows along, and rewrites nothing — only
-- catalog rows change, under a short ACCESS EXCLUSIVE lock per table (stop the old workers first: docs/deploying.md).
-- sendonce defines no functions, types, views or triggers of its own, so there is nothing else to move.
-- A table is moved only if it is not in `sendonce` yet: `public.<name>` is then sendonce's own (0001–0014 made it
-- there; a table of the application could not have had that name), and never an app table of a new database.
-- The migrations table was moved before this ran (src/db/migrate.ts, prepareSchema). The demo's tables (users,
-- digest_items of 0002 and 0009, now no-ops) are not sendonce's: they stay where they are.
CREATE SCHEMA IF NOT EXISTS sendonce;
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'email_sends', 'dead_letters', 'job_runs', 'job_fences', 'job_leases', 'scheduled_emails', 'unknown_resolutions',
    'retention_horizon', 'suppressions', 'suppression_removals', 'job_windows', 'window_expired_recipients'
  ] LOOP
    IF to_regclass(format('sendonce.%I', t)) IS NULL AND to_regclass(format('public.%I', t)) IS NOT NULL THEN
      EXECUTE format('ALTER TABLE public.%I SET SCHEMA sendonce', t);
    END IF;
  END LOOP;
END
$$;

-- Down Migration
-- Back to `public` (for a downgrade to a release before 0015): refused by Postgres if the application has a table of
-- one of these names there by now. The migrations table stays in `sendonce`: a release before 0015 looks for it in
-- `public`, so move it by hand after this (ALTER TABLE sendonce.sendonce_migrations SET SCHEMA public).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'email_sends', 'dead_letters', 'job_runs', 'job_fences', 'job_leases', 'scheduled_emails', 'unknown_resolutions',
    'retention_horizon', 'suppressions', 'suppression_removals', 'job_windows', 'window_expired_recipients'
  ] LOOP
    IF to_regclass(format('sendonce.%I', t)) IS NOT NULL THEN
      EXECUTE format('ALTER TABLE sendonce.%I SET SCHEMA public', t);
    END IF;
  END LOOP;
END
$$;
