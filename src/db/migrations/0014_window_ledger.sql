-- Up Migration

-- The window ledger (src/windows/): job_windows grows from "which template a window's keys use" into each
-- window's state, so that a window whose run stopped early is finished by a follow-up run (src/windows/keeper.ts)
-- or says who was not sent and why — not only windows with a next tick of their own.
--   open        a run of the window is working on it, or one will (a tick, a follow-up);
--   complete    the latest run walked the whole recipient list and handled everyone;
--   incomplete  a run ended early (`reason`); `unsent` recipients on the list had no send when it was counted;
--   expired     the deadline passed first: the recipients still unsent are in window_expired_recipients.
ALTER TABLE job_windows
  ADD COLUMN state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'complete', 'incomplete', 'expired')),
  -- Nominal time of the window's first tick: follow-up runs use it, so they compute the same window and keys.
  ADD COLUMN scheduled_at timestamptz,
  -- After this nothing of the window is sent (null: a window begun before the ledger, which no follow-up touches).
  ADD COLUMN deadline timestamptz,
  ADD COLUMN reason text,
  ADD COLUMN last_run_id text,
  ADD COLUMN unsent integer,
  ADD COLUMN expired integer,
  ADD COLUMN follow_ups integer NOT NULL DEFAULT 0,
  -- When the keeper may start the next follow-up; null: none is due (complete, expired, or it needs a person).
  ADD COLUMN next_follow_up_at timestamptz,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Windows begun before the ledger: complete when a run of theirs completed, otherwise incomplete for a person
-- to look at (`sendonce windows`), never followed up by themselves: their deadline is not known.
UPDATE job_windows w SET state = CASE WHEN EXISTS (
    SELECT 1 FROM job_runs r WHERE r.job_name = w.job_name AND r.window_key = w.window_key AND r.outcome = 'completed'
  ) THEN 'complete' ELSE 'incomplete' END,
  reason = 'before_window_ledger';
UPDATE job_windows SET reason = NULL WHERE state = 'complete';

-- The keeper's sweep reads the windows that are not settled.
CREATE INDEX job_windows_unsettled ON job_windows (next_follow_up_at) WHERE state IN ('open', 'incomplete');

-- Who a window did not reach before its deadline: ids only, like every other table here.
CREATE TABLE window_expired_recipients (
  job_name      text        NOT NULL,
  window_key    text        NOT NULL,
  recipient_id  text        NOT NULL,
  expired_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_name, window_key, recipient_id),
  FOREIGN KEY (job_name, window_key) REFERENCES job_windows (job_name, window_key) ON DELETE CASCADE
);

-- Down Migration
DROP TABLE window_expired_recipients;
DROP INDEX job_windows_unsettled;
ALTER TABLE job_windows
  DROP COLUMN state, DROP COLUMN scheduled_at, DROP COLUMN deadline, DROP COLUMN reason, DROP COLUMN last_run_id,
  DROP COLUMN unsent, DROP COLUMN expired, DROP COLUMN follow_ups, DROP COLUMN next_follow_up_at, DROP COLUMN updated_at;
