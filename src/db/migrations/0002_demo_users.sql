-- Up Migration

-- Nothing any more. This made the demo job's `users` table in the application's database, where it did not belong
-- (issue 25): a database with a `users` table of its own stopped every worker. The demo's tables are now made by
-- the development kit only (devkit/demo/schema.sql, for `npm start` and the tests). The file stays, empty, because
-- node-pg-migrate checks the migrations applied against these files by name and order. A deployment that ran it
-- keeps its `users` table: drop it by hand if it was only the demo's (docs/deploying.md).
SELECT 1;

-- Down Migration
SELECT 1;
