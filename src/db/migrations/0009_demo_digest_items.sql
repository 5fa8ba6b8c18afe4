-- Up Migration

-- Nothing any more: this made the demo digest's `digest_items` table in the application's database (issue 25); the
-- development kit makes it now (devkit/demo/schema.sql). Kept, empty, for node-pg-migrate's check of the migrations
-- applied by name and order. A deployment that ran it keeps the table: drop it by hand if it was only the demo's
-- (docs/deploying.md).
SELECT 1;

-- Down Migration
SELECT 1;
