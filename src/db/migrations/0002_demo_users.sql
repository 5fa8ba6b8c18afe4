-- Up Migration

-- The demo job's recipients (src/jobs/daily-digest.ts). Your own jobs read your own tables.
CREATE TABLE users (
  id            bigserial   PRIMARY KEY,
  email         text        NOT NULL,
  name          text        NOT NULL,
  digest_opt_in boolean     NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE users;
