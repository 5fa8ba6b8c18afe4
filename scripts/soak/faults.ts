/**
 * The soak's fault kinds: which lane injects them, how often (relative weight: the slow, heavy faults less often
 * than the quick ones) and what each does, in the words of the report.
 */
export const SMTP_KINDS = ['smtp-421-storm', 'smtp-550', 'smtp-drop-after-data', 'smtp-down'] as const;
export const INFRA_KINDS = ['worker-sigkill', 'worker-pause', 'zombie-holder', 'postgres-restart', 'redis-restart', 'temporal-restart', 'duplicate-trigger', 'backfill', 'clock-skew', 'deploy'] as const;
export type FaultKind = (typeof SMTP_KINDS)[number] | (typeof INFRA_KINDS)[number];

export const WEIGHT: Record<FaultKind, number> = {
  'smtp-421-storm': 3,
  'smtp-550': 2,
  'smtp-drop-after-data': 3,
  'smtp-down': 2,
  'worker-sigkill': 3,
  'worker-pause': 2,
  'zombie-holder': 1,
  'postgres-restart': 1.5,
  'redis-restart': 1.5,
  'temporal-restart': 1,
  'duplicate-trigger': 2,
  backfill: 1.5,
  'clock-skew': 1,
  deploy: 0.6,
};

export const KIND_TEXT: Record<FaultKind, string> = {
  'smtp-421-storm': 'every RCPT answered 421 for 0.3–2.5 s',
  'smtp-550': '550 5.1.1 for the bouncing mailboxes (a tenth of the users, 30% of the one-off addresses) for 0.3–2.5 s',
  'smtp-drop-after-data': 'for 0.3–2.5 s, 30% of messages stored and the connection cut before the reply',
  'smtp-down': 'the SMTP server not listening for 0.3–2.5 s (refused connections are not seen by the sink: no hit count)',
  'worker-sigkill': 'a random worker SIGKILLed; the supervisor starts it again',
  'worker-pause': 'a random worker SIGSTOPped for 2–30 s (the lock TTL is 10 s), then SIGCONT',
  'zombie-holder': 'every worker frozen 12 s (lock TTL 10 s) with a tick in flight; a second trigger of it takes the lock on the first worker to wake, which freezes again once that run has claimed; then the others wake with unclaimed sends queued (chaos scenario 5)',
  'postgres-restart': 'Postgres stopped in immediate mode, started 0.3–3 s later',
  'redis-restart': 'redis-server SIGKILLed (no persistence: locks gone), started 0.3–3 s later',
  'temporal-restart': 'the Temporal dev server SIGKILLed, started 0.3–3 s later on its SQLite file',
  'duplicate-trigger': 'a second run of a tick in flight',
  backfill: 'a run of a window a run already completed (must send nothing)',
  'clock-skew': 'one more worker whose wall clock is 30 s–10 min off (libfaketime), for 3–10 s',
  deploy: 'the other version started and promoted (Worker Versioning); the old one drains, then stops',
};
