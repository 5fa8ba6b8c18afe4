/**
 * The soak's section of RELIABILITY.md, between two markers so `npm run chaos` (which rewrites the rest of the
 * file) keeps it, and `npm run soak` replaces only it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import type { Figures } from '../chaos/invariants';
import type { CheckResult } from './checks';
import { INFRA_KINDS, KIND_TEXT, SMTP_KINDS } from './faults';
import type { Injection } from './nemesis';
import type { RunRecord } from './ticker';

const BEGIN = '<!-- soak:begin (written by npm run soak) -->';
const END = '<!-- soak:end -->';

/** `report` with the soak section of `previous` (the file as it was) appended, if it had one. */
export function keepSoakSection(report: string, previous: string | undefined): string {
  const section = previous ? extract(previous) : undefined;
  return section ? `${report.trimEnd()}\n\n${section}\n` : report;
}

/**
 * Write `section` into the file at `file`: in place of its soak section, or appended. The section ends with the
 * table of every soak run so far (one row each, `seriesRow`): the rows already there are kept and `row` is added.
 * Soaks of different seeds may run side by side: the read-modify-write holds a lock file.
 */
export function writeSoakSection(file: string, section: string, row?: string): void {
  withLockFile(`${file}.lock`, () => {
    const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Reliability under injected faults\n';
    const old = extract(previous);
    const rows = [...(old ? seriesRows(old) : []), ...(row ? [row] : [])];
    const block = `${BEGIN}\n${section.trim()}\n\n${SERIES_HEADING}\n\n${SERIES_INTRO}\n\n${SERIES_HEAD}\n${rows.join('\n')}\n\n${END}`;
    fs.writeFileSync(file, old ? previous.replace(old, block) : `${previous.trimEnd()}\n\n${block}\n`);
  });
}

const SERIES_HEADING = '### Every soak run';
const SERIES_INTRO = 'One row per `npm run soak` that wrote this file (newest last); the section above is the newest run\'s.';
const SERIES_HEAD = '| date | commit | seed | minutes | faults | ticks | runs | emails | duplicates | silent losses | stuck runs | result |\n|---|---|---|---|---|---|---|---|---|---|---|---|';

function seriesRows(block: string): string[] {
  const at = block.indexOf(SERIES_HEAD);
  if (at < 0) return [];
  const rest = block.slice(at + SERIES_HEAD.length).split('\n');
  const rows: string[] = [];
  for (const line of rest.slice(1)) {
    if (!line.startsWith('| ')) break;
    rows.push(line);
  }
  return rows;
}

/** Runs that gave no result within the run timeout (the ticker terminated them). */
export const stuckRuns = (runs: readonly RunRecord[]): number => runs.filter((x) => x.outcome === 'stuck').length;

/** A soak passes when no check found a violation and no run got stuck. */
export const soakPassed = (r: Pick<SoakReport, 'violations' | 'runs'>): boolean => r.violations.length === 0 && stuckRuns(r.runs) === 0;

/** This soak's row of the series table. */
export function seriesRow(r: SoakReport): string {
  const sum = (f: (x: Figures) => number) => Object.values(r.final.figures).reduce((s, x) => s + f(x), 0);
  const minutes = (r.faultsStoppedAt.getTime() - r.startedAt.getTime()) / 60_000;
  const stuck = stuckRuns(r.runs);
  const result = soakPassed(r) ? 'passed' : `**FAILED**: ${r.violations.length} violation(s)${r.violations[0] ? `, first: ${r.violations[0].replace(/\|/g, '\\|')}` : ''}${stuck ? `; ${stuck} stuck run(s)` : ''}`;
  return `| ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} | \`${r.commit.slice(0, 7)}\`${r.commit.includes('uncommitted') ? ' (uncommitted changes)' : ''} | ${r.seed} | ${minutes.toFixed(1)} | ${fmt(r.injections.length)} | ${r.ticks} | ${fmt(r.runs.length)} | ${fmt(r.emailsAtSink)} | ${sum((f) => f.duplicates)} | ${sum((f) => f.stuck)} | ${stuck} | ${result} |`;
}

/** `work` while holding `lockFile` (created exclusively; waits up to 30 s for another writer, then takes it). */
function withLockFile(lockFile: string, work: () => void): void {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lockFile, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) break; // a stale lock: go on
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    work();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

function extract(text: string): string | undefined {
  const from = text.indexOf(BEGIN);
  const to = text.indexOf(END);
  return from >= 0 && to > from ? text.slice(from, to + END.length) : undefined;
}

export interface SoakReport {
  command: string;
  /** HEAD when the soak started (what its processes loaded), with " (uncommitted changes in src or scripts)" if so. */
  commit: string;
  seed: number;
  startedAt: Date;
  finishedAt: Date;
  /** When the nemesis stopped (settling follows). */
  faultsStoppedAt: Date;
  ticks: number;
  ticksChecked: number;
  workers: number;
  users: number;
  runs: RunRecord[];
  injections: Injection[];
  workerRestarts: number;
  orphanedVersions: number;
  final: CheckResult;
  /** Every distinct violation any check found (after a tick or at the end), in the order found. */
  violations: string[];
  /** Sends accepted between a check's two sink reads and read `sent` by it (issue 28's false alarm, now counted). */
  crossings: Array<{ tick: number; key: string; receivedAt: Date; reads: CheckResult['reads'] }>;
  emailsAtSink: number;
  firstViolation?: { afterMinutes: number; afterFaults: number; afterTicks: number; text: string };
  notes: string[];
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function renderSoakSection(r: SoakReport): string {
  const minutes = (r.faultsStoppedAt.getTime() - r.startedAt.getTime()) / 60_000;
  const total = (r.finishedAt.getTime() - r.startedAt.getTime()) / 60_000;
  const violations = r.final.violations;
  const sum = (f: (x: Figures) => number) => Object.values(r.final.figures).reduce((s, x) => s + f(x), 0);
  const lines = [
    `## Soak: randomized faults, alone and together, for ${Math.round(minutes)} minutes`,
    '',
    headline(r),
    '',
    `- command: \`${r.command}\` (seed ${r.seed}: the same seed replays the same fault schedule; what each fault hits depends on timing)`,
    `- commit: \`${r.commit}\` (checked out when the soak started)`,
    `- date: ${r.startedAt.toISOString()}; faults for ${minutes.toFixed(1)} min, then settling; ${total.toFixed(1)} min in all`,
    `- machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    `- world: ${r.workers} worker processes (supervised), ${r.users} users, five jobs on one task queue — \`soak-digest\` (unknown → record), \`soak-resend\` (resend-once), \`soak-limited\` (rate limit, 30 per 3 s bucket), \`soak-daily\` (one tick per window: only the window keeper's follow-ups finish its windows), \`soak-once\` (one-off emails); scripts/soak/jobs.ts`,
    '',
    '| figure | value |',
    '|---|---|',
    `| ticks (one run per job each) | ${fmt(r.ticks)} |`,
    `| invariant checks (after every tick, and the final one) | ${fmt(r.ticksChecked)} + 1 |`,
    `| runs | ${fmt(r.runs.length)} (${byCount(r.runs.map((x) => x.kind))}) |`,
    `| run endings | ${byCount(r.runs.map((x) => x.outcome + (x.reason ? ` (${x.reason})` : '')))} |`,
    `| emails accepted by the SMTP sink | ${fmt(r.emailsAtSink)} |`,
    `| keys expected (recipients × windows, one-off rows) | ${fmt(sum((f) => f.expected))} |`,
    `| keys delivered / dead / unknown / suppressed (hard bounce, no row) | ${fmt(sum((f) => f.delivered))} / ${fmt(sum((f) => f.dead))} / ${fmt(sum((f) => f.unknown))} / ${fmt(r.final.suppressedKeys)} |`,
    `| faults injected | ${fmt(r.injections.length)} (${r.injections.filter((i) => i.error).length} could not be completed, listed below) |`,
    `| recoveries (fault over, service or process back) | ${fmt(r.injections.filter((i) => i.recovered).length)}; workers restarted by the supervisor: ${r.workerRestarts}; a version with open runs found without workers (one started again): ${r.orphanedVersions} |`,
    `| **duplicates** (copies beyond the policy) | **${sum((f) => f.duplicates)}** (resend-once second copies, same Message-ID: ${sum((f) => f.resent)}) |`,
    `| **silent losses** (keys left claimed/failed or without a row) | **${sum((f) => f.stuck)}** |`,
    `| **stuck runs** (no result within the run timeout) / runs left \`running\` in job_runs | **${stuckRuns(r.runs)}** / **${violations.filter((v) => v.includes('still says running')).length}** |`,
    `| **max attempts** of any key (bound 5, +1 under resend-once) | **${Math.max(0, ...Object.values(r.final.figures).map((f) => f.maxAttempts))}** |`,
    `| **overlapping claims** (an older fence claiming after a newer one) | **${violations.filter((v) => v.includes('overlap:')).length}** |`,
    `| sends in flight across a check (a completed window's key accepted between the check's two sink reads and read \`sent\`: lost to a check that read the sink once) | ${r.crossings.length} |`,
    '',
    '### Faults by kind',
    '',
    '| kind | injected | hit a message | not completed | what it does |',
    '|---|---|---|---|---|',
    ...[...SMTP_KINDS, ...INFRA_KINDS].map((k) => {
      const of = r.injections.filter((i) => i.kind === k);
      const hit = of.some((i) => i.hits !== undefined) ? String(of.filter((i) => (i.hits ?? 0) > 0).length) : '—';
      return `| ${k} | ${of.length} | ${hit} | ${of.filter((i) => i.error).length} | ${KIND_TEXT[k]} |`;
    }),
    '',
    '### Faults together (two kinds active at the same moment)',
    '',
    pairTable(r.injections),
    '',
    ...(r.violations.length > 0 ? ['### Violations', '', ...r.violations.slice(0, 20).map((v) => `- ${v}`), ...(r.violations.length > 20 ? [`- … and ${r.violations.length - 20} more`] : []), ''] : []),
    ...BROKEN_GUARDS,
    ...CHECK_RACE,
    ...(r.injections.some((i) => i.error) ? ['### Faults that could not be completed', '', ...summarizeErrors(r.injections), ''] : []),
    ...(r.crossings.length > 0 ? ['### Sends in flight across a check', '', ...r.crossings.slice(0, 10).map(crossingLine), ''] : []),
    ...(r.notes.length > 0 ? ['### Notes', '', ...r.notes.slice(0, 30).map((n) => `- ${n.replace(/\s+/g, ' ').trim()}`), ''] : []),
  ];
  return lines.join('\n');
}

/**
 * The first sentence: how many distinct violations the soak found over all its checks — the one after each tick
 * as well as the final one (a violation that stopped the soak early may be gone by the final check: it counts).
 */
export function headline(r: Pick<SoakReport, 'violations' | 'firstViolation' | 'final' | 'runs'>): string {
  const stuck = stuckRuns(r.runs);
  const stuckText = stuck > 0 ? `${stuck} run(s) stuck (no result within the run timeout)` : '';
  if (r.violations.length === 0) {
    return stuck === 0 ? 'Every check after every tick, and the final one, held all four invariants.' : `Every check held all four invariants, but ${stuckText}.`;
  }
  const first = r.firstViolation
    ? `the first after ${r.firstViolation.afterMinutes.toFixed(1)} min and ${r.firstViolation.afterFaults} faults (tick ${r.firstViolation.afterTicks}): ${r.firstViolation.text}`
    : `all in the final check, e.g. ${r.violations[0]}`;
  const finalCount = r.final.violations.length;
  const final = !r.firstViolation ? '' : finalCount === 0 ? '; the final check found none' : `; the final check found ${finalCount}`;
  return `**The soak found ${r.violations.length} violation(s)** — ${first}${final}${stuck > 0 ? `; ${stuckText}` : ''}.`;
}

/** Issue 28: the soak's one failure that was the check's, not the product's — measured, dated, static. */
export const CHECK_RACE = [
  '### A false alarm of the check itself (issue 28)',
  '',
  '`SOAK_MINUTES=10 SOAK_SEED=20261207 npm run soak` on fc77385 stopped after 1.5 min (tick 7):',
  '`email:soak-limited:31:2031-01-05 is recorded sent but the sink has no message for it`; the final check of the same',
  'soak found nothing wrong. `soak-limited` never resends (`unknown` is recorded), so the key had one message at',
  'most; its row read `sent` means the server had answered 250, which the sink does only after recording the',
  'message; and the final check found that message. So it was recorded after the check had read the sink and before',
  'the check read the row. The check read the sink once, before every database read, while sends can still be in',
  'flight: e.g. an attempt that outlives its 4 s claim lease on a loaded machine (the retry records the key',
  '`unknown`; the slow attempt then gets its 250, and `markSent` accepts `unknown`: the server did take it), or an',
  'activity of a run that has already ended. Not a frozen worker: one SIGSTOPped right after its RCPT and woken',
  'after the run completed ended that send ambiguous (its 2 s socket timeout fired before it read the waiting',
  'reply), and nothing reached the server. The soak kept no evidence then; it does now (scripts/soak/evidence.ts).',
  '',
  'Now each check reads the sink before and after the rows (`readAround` in scripts/chaos/invariants.ts): "sent',
  'needs a message" is judged on the later read, "a message needs a row" on the earlier one, and a send that lands',
  'in between is counted (sends in flight across a check, above). `test/chaos/check-reads.test.ts` forces that',
  'interleaving with a real SMTP send and the product\'s markSent between the two reads: it fails with the old',
  'single read, with the same message. The race is rare: five 10-minute soaks with the old single read on',
  '2026-12-07 did not hit it — seed 20261207 three times, once with 2 s between the sink read and the rows, once',
  'with the zombie-holder fault 20 times as likely. On the fixed check, seed 1010 (8cfc130) caught it happening:',
  'two `soak-limited` sends accepted 4 ms after a check\'s first sink read and read `sent` by it (that soak counted',
  'keys of any window; since then only those of completed windows, the ones the single read called lost, count).',
  '',
];

/** How soon the soak fails with a guard taken out (local mutations, never committed): measured, dated, static. */
export const BROKEN_GUARDS = [
  '### How soon it catches a broken guard',
  '',
  'Each guard taken out of `src/sends/claims.ts` by hand (never committed), then `SOAK_MINUTES=10 npm run soak` —',
  'the soak stops at the first tick whose check fails (2026-11-30):',
  '',
  '| guard removed | seed | caught after | first violation |',
  '|---|---|---|---|',
  '| the insert-first claim (`ON CONFLICT (idempotency_key) DO NOTHING` made `DO UPDATE`) | 1717 | 0.6 min, 23 faults, tick 1 | `attempts: email:soak-digest:13:2031-01-01 used 6 (bound 5)`, then duplicates, e.g. `email:soak-limited:25:2031-01-01 accepted 3 times` |',
  '| the fence check (the claim INSERT\'s fence condition and the slow path\'s `fenced` answer) | 1717 | 0.7 min, 31 faults, tick 1 | `overlap: 10 claim(s) with an older fence after a newer holder had claimed` |',
  '| the fence check | 2024 | 0.8 min, 32 faults, tick 3 | `overlap: 1 claim(s) with an older fence …` |',
  '',
  'Both fence runs failed at their first `zombie-holder` fault. Before that fault kind existed, the same soak with',
  'the fence removed ran 10 min (417 faults, seed 1717) and 14.7 min (652 faults) without noticing: a worker',
  'paused on its own keeps its run\'s lock (the other worker renews it), and when the run ends its keys are all',
  'finished — the fence only matters when a newer holder works the same window while the old one still has',
  'unclaimed sends queued, which that fault (chaos scenario 5) arranges.',
  '',
];


function crossingLine(c: SoakReport['crossings'][number]): string {
  const ms = (d: Date) => d.getTime() - c.reads.sinkBefore.getTime();
  return `- tick ${c.tick}: ${c.key} read by the sink ${ms(c.receivedAt)} ms after the check's first sink read (recorded just after); rows read, sink read again at +${ms(c.reads.sinkAfter)} ms`;
}

function byCount(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v}: ${fmt(n)}`).join(', ');
}

/** Unordered pairs of distinct kinds whose active intervals overlapped, with how often. */
export function pairCounts(injections: readonly Injection[]): Map<string, number> {
  const sorted = [...injections].sort((a, b) => a.startedAt - b.startedAt);
  const pairs = new Map<string, number>();
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    const aEnd = a.endedAt ?? Infinity;
    for (let j = i + 1; j < sorted.length && sorted[j]!.startedAt < aEnd; j++) {
      const b = sorted[j]!;
      if (b.kind === a.kind) continue;
      const key = [a.kind, b.kind].sort().join(' + ');
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
  }
  return pairs;
}

function pairTable(injections: readonly Injection[]): string {
  const pairs = [...pairCounts(injections)].sort((a, b) => b[1] - a[1]);
  const total = pairs.reduce((s, [, n]) => s + n, 0);
  if (pairs.length === 0) return 'none';
  return [`${fmt(total)} overlaps of ${pairs.length} distinct pairs of kinds:`, '', '| pair | times |', '|---|---|', ...pairs.map(([k, n]) => `| ${k} | ${n} |`)].join('\n');
}

function summarizeErrors(injections: readonly Injection[]): string[] {
  const counts = new Map<string, number>();
  for (const i of injections) {
    if (!i.error) continue;
    const line = `${i.kind}: ${i.error.slice(0, 160)}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([e, n]) => `- ${n} × ${e}`);
}

/** HEAD now, marked when src/ or scripts/ differ from it: call it at the start, before anything is loaded. */
export function checkedOutCommit(): string {
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'scripts']);
  return `${git(['rev-parse', 'HEAD'])}${dirty ? ' (uncommitted changes in src or scripts)' : ''}`;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
