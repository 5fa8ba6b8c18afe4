-- Up Migration

-- The demo digest's items (src/jobs/daily-digest.ts lists them per user; the template loops over them).
CREATE TABLE digest_items (
  id         bigserial   PRIMARY KEY,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX digest_items_user ON digest_items (user_id, id);

-- Down Migration
DROP TABLE digest_items;
