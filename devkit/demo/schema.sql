-- The demo's own tables: the recipients of the daily digest (devkit/demo/daily-digest.ts) and their items. They play
-- the application's tables — the ones your own jobs read — so they are in `public`, not in sendonce's schema; named
-- in full, because the devkit's role is called sendonce and the default search_path ("$user", public) would put
-- them in the schema `sendonce`. Made by `npm start` and the tests only (devkit/demo/schema.ts), never by the migrations of a
-- deployment (issue 25; migrations 0002 and 0009 made them before and are empty now). IF NOT EXISTS: a database that
-- has them from those migrations, or from an earlier `npm start`, keeps them and their rows.
CREATE TABLE IF NOT EXISTS public.users (
  id            bigserial   PRIMARY KEY,
  email         text        NOT NULL,
  name          text        NOT NULL,
  digest_opt_in boolean     NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.digest_items (
  id         bigserial   PRIMARY KEY,
  user_id    bigint      NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
  title      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS digest_items_user ON public.digest_items (user_id, id);
