-- Up Migration

-- One row per job and window: which template its keys were made with. A key is email:{template}:{recipient}:{window},
-- so a template renamed while a window is being sent (a redeploy mid-window) would make new keys for the same people
-- and send the window again. The first run of a window records its template here; a later run of the window with
-- another template is refused (src/sends/window-template.ts). Windows started before this table existed are recorded
-- by their first run after it, from one of their keys.
CREATE TABLE job_windows (
  job_name    text        NOT NULL,
  window_key  text        NOT NULL,
  template    text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_name, window_key)
);

-- Down Migration
DROP TABLE job_windows;
