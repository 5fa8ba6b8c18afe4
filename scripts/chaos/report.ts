/**
 * RELIABILITY.md: the figures of one `npm run chaos`, per scenario summed over its repetitions, with the
 * commit, date, machine and the command that reproduces them. Written from the results only: no number in it
 * is typed by hand.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { CHAOS_RETRY } from './jobs';
import type { RepetitionResult } from './run';

export interface RunInfo {
  command: string;
  repetitions: number;
  startedAt: Date;
  finishedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  baseSeed: number;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(): string {
  const cpus = os.cpus();
  return `${os.hostname()}: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ` +
    `${os.type()} ${os.release()}, Node ${process.version}`;
}

const sum = (rs: RepetitionResult[], f: (r: RepetitionResult) => number) => rs.reduce((n, r) => n + f(r), 0);

function row(rs: RepetitionResult[]): string {
  const s = rs[0]!.scenario;
  const fig = (k: keyof NonNullable<RepetitionResult['figures']>) => sum(rs, (r) => r.figures?.[k] ?? 0);
  const maxAttempts = Math.max(0, ...rs.map((r) => r.figures?.maxAttempts ?? 0));
  const passed = rs.filter((r) => r.passed).length;
  const cells = [
    s.id, `\`${s.name}\``, rs.length, fig('expected'), fig('delivered'), fig('duplicates'), fig('resent'), fig('unknown'),
    fig('dead'), fig('stuck'), maxAttempts, sum(rs, (r) => r.followUps), passed === rs.length ? `**pass** (${passed}/${rs.length})` : `**FAIL** (${passed}/${rs.length})`,
  ];
  return `| ${cells.join(' | ')} |`;
}

function details(rs: RepetitionResult[]): string[] {
  const s = rs[0]!.scenario;
  const lines = [`### ${s.id}. ${s.name}`, '', `Fault: ${s.title}. ${s.recipients} recipients, job \`${s.job.name}\` (unknownPolicy \`${s.job.unknownPolicy ?? 'record'}\`).`, ''];
  for (const r of rs) {
    const took = `${(r.durationMs / 1000).toFixed(1)} s`;
    const notes = r.notes.length > 0 ? r.notes.join('; ') : '—';
    lines.push(`- repetition ${r.repetition} (seed ${r.seed}, ${took}): ${r.passed ? 'pass' : 'FAIL'} — ${notes}`);
    for (const v of r.violations.slice(0, 8)) lines.push(`  - violation: ${v}`);
    if (r.violations.length > 8) lines.push(`  - … and ${r.violations.length - 8} more`);
  }
  lines.push('');
  return lines;
}

export function renderReport(results: RepetitionResult[], info: RunInfo): string {
  const byScenario = new Map<number, RepetitionResult[]>();
  for (const r of results) byScenario.set(r.scenario.id, [...(byScenario.get(r.scenario.id) ?? []), r]);
  const groups = [...byScenario.values()];
  const allPassed = results.every((r) => r.passed);
  const minutes = ((info.finishedAt.getTime() - info.startedAt.getTime()) / 60_000).toFixed(1);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  return [
    '# Reliability under injected faults',
    '',
    `${allPassed ? 'Every repetition of every scenario held all four invariants.' : '**Some repetitions broke an invariant — see the details.**'}`,
    '',
    `- commit: \`${git(['rev-parse', 'HEAD'])}\`${git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':!package-lock.json']) ? ' (the working tree had uncommitted changes)' : ''}`,
    `- date: ${info.startedAt.toISOString()} → ${info.finishedAt.toISOString()} (${minutes} min)`,
    `- machine: ${machine()}`,
    `- load average (1/5/15 min) before: ${load(info.loadBefore)}, after: ${load(info.loadAfter)}`,
    `- reproduce: \`${info.command}\` (base seed ${info.baseSeed}: \`CHAOS_SEED=${info.baseSeed}\` replays the same fault points)`,
    '',
    '| # | scenario | reps | emails expected | delivered | duplicates | resent (same Message-ID) | unknown | dead | stuck claims | max attempts | follow-up ticks | result |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...groups.map(row),
    '',
    'Figures are summed over the repetitions; "max attempts" is the highest `email_sends.attempts` of any key',
    `(bound: the jobs' \`maximumAttempts\` = ${CHAOS_RETRY.maximumAttempts}, +1 for a resend-once copy; scripts/chaos/jobs.ts).`,
    '',
    ...INVARIANTS,
    ...FINDINGS,
    '## Per scenario',
    '',
    ...groups.flatMap(details),
  ].join('\n');
}

const INVARIANTS = [
  '## What is checked after every repetition (scripts/chaos/invariants.ts)',
  '',
  '- **No duplicates**: at most one message per idempotency key accepted by the SMTP sink (read from the',
  '  `X-Sendonce-Key` header) — a key resent under `resend-once` (resends = 1) may have two, both with the key\'s',
  '  Message-ID; a key recorded `dead` has none; every message has one RCPT, one To line and no Cc/Bcc line.',
  '- **Nothing lost silently**: every eligible key of every window a run covered ends `sent` (and is at the',
  '  sink), `dead` (with a reason and a dead letter) or `unknown` (with a reason); none is left `claimed` or',
  '  `failed`; no key of another window exists.',
  '- **Bounded attempts**: no key used more than `maximumAttempts` (+1 under resend-once).',
  '- **No overlap**: a trigger installed in the repetition\'s own database logs every claim with its fence and the',
  '  database clock; once a newer lock holder has claimed anything, no claim may carry an older fence.',
  '',
  'After the fault the scenario waits for its runs. A window none of whose runs `completed` (a run that lost its',
  'lock stops sending by design) gets a follow-up tick — what the next schedule tick does in production; the',
  '"follow-up ticks" column counts them. Workers are stopped gracefully before the invariants are read.',
  'Scenarios 15–17 (one tick per window, a daily job\'s only tick) get no follow-up tick from the suite: the',
  'workers\' window keeper must finish the window by itself (src/windows/keeper.ts); the column counts the',
  'keeper\'s follow-up runs, and the scenario waits for the window ledger to say `complete`.',
  '',
];

/** What the suite found while it was built, and its limits (static: true of the suite, not of one run). */
export const FINDINGS = [
  '## Findings and limits',
  '',
  '- **Each check can fail** (local mutations of `src/sends/claims.ts`, never committed; 2026-11-30):',
  '  - insert-first claim taken out (`ON CONFLICT (idempotency_key) DO NOTHING` made `DO UPDATE`, so an existing',
  '    key is claimed again): `SOAK_SEED=1717 SOAK_MINUTES=10 npm run soak` stops after 0.6 min and 23 faults',
  '    (tick 1) with keys over their attempt bound and duplicates, e.g. `duplicate: email:soak-limited:25:2031-01-01',
  '    accepted 3 times` (the soak section below has its figures for both guards); earlier,',
  '    `CHAOS_ONLY=duplicate-triggers-backfill CHAOS_REPS=1 CHAOS_SEED=4242 npm run chaos` failed with 150 duplicates.',
  '  - fence check taken out (the fence condition of the claim INSERT and the `fenced` answer of the slow path):',
  '    `CHAOS_ONLY=paused-lock-holder CHAOS_REPS=4 CHAOS_SEED=777 npm run chaos` fails 4 repetitions out of 4',
  '    (13 to 48 claims with an older fence after the newer holder had claimed, e.g. `overlap: 48 claim(s) with an',
  '    older fence …`). Scenario 5 used to catch it in one repetition out of four: B, left running, had already',
  '    claimed the keys queued in A by the time A resumed, so A\'s claims failed as duplicates with or without',
  '    the fence; B is now paused as soon as it has claimed. The soak\'s own figure is in its section below.',
  '- **Node can crash a resumed worker.** Once in about ten pauses (scenario 5) Node aborted worker A right after',
  '  SIGCONT with "async hook stack has become corrupted" in a workflow worker thread (a known Node/Temporal TS',
  '  SDK crash, temporalio/sdk-typescript#939). Nobody then polls A\'s task queue and A\'s run never ends; the',
  '  scenario restarts a worker that dies on its own, as a process supervisor would, and says so in its notes.',
  '- **`unknown` is conservative.** A send whose SMTP reply arrives while Postgres is down, or whose worker dies',
  '  with the message at the server, ends `unknown` and is not resent — so "delivered" can exceed',
  '  "expected − unknown − dead": those keys reached the sink once, and say they may have.',
  '- Scenario 11 needs libfaketime (Debian package `faketime`, LD_PRELOAD); `npm run chaos` installs it with apt when running as root, else says so.',
  '- **One tick per window** (issue 29): before the window keeper, a daily job whose only run lost its lock at',
  '  ~30 % left the rest of the window unsent, with no row and no count (410 of 600 sent, measured from outside);',
  '  scenarios 15–17 now show every recipient accounted for with no further tick. Scenario 17 also found that a',
  '  20 s Postgres outage made the run\'s own finishRun run out of its five attempts, so the run ended `failed`',
  '  instead of `stopped` (`database_unavailable`); recording the ending now has ten attempts (about two minutes).',
  '- Counts depend on where the random fault lands and on the machine\'s load; the invariants may not.',
  '',
];
