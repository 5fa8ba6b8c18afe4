/**
 * What a failed soak keeps for its diagnosis, in one folder (printed at the end; SOAK_EVIDENCE_DIR overrides it):
 *
 *   README.md            what failed, and for each violating key its story: every version of its row
 *                        (chaos_send_history), what the sink recorded for it (time, Message-ID, connection), its
 *                        claims, the runs of its window, the faults around it, its recipient's worker log lines
 *   checks.jsonl         every check: when the sink was read before and after the rows, what it found
 *   sink.jsonl           every message the sink accepted: time, key, Message-ID, connection, answered or cut
 *   faults.jsonl         every fault: kind, start, end, what it did
 *   runs.jsonl           every run the soak started: kind, job, window, workflow id, start, end, outcome
 *   send-history.jsonl   every version of every email_sends row
 *   workers/N.log        every worker's output (JSON lines), killed and retired ones included
 *   database/            the Postgres data directory, stopped cleanly: `node --import tsx devkit/open-db.ts <it>`
 *
 * Nothing is written when the soak passes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import type { SinkMessage, SmtpSink } from '../../devkit/smtp-sink';
import type { WorkerProcess } from '../../devkit/worker-process';
import { sendHistory } from '../chaos/claim-log';
import { keyOf } from '../chaos/invariants';
import type { CheckResult } from './checks';
import { jobs } from './jobs';
import type { Injection } from './nemesis';
import type { RunRecord } from './ticker';
import type { PoolWorker } from './workers';

/** One check as the evidence lists it. */
export interface CheckRecord {
  tick: number;
  final: boolean;
  reads: CheckResult['reads'];
  violations: string[];
}

/** The parts of the soak's world the evidence reads. */
export interface EvidenceWorld {
  pool: Pool;
  sink: Pick<SmtpSink, 'messages'>;
  workers: {
    workers: ReadonlyArray<Pick<PoolWorker, 'n' | 'bundlePath' | 'retired'> & { proc: Pick<WorkerProcess, 'lines' | 'output'> & { child: { pid?: number | undefined } } }>;
  };
}

export interface EvidenceInput {
  seed: number;
  world: EvidenceWorld;
  runs: readonly RunRecord[];
  injections: readonly Injection[];
  checks: readonly CheckRecord[];
  /** Every distinct violation the soak found, in the order found. */
  violations: readonly string[];
}

/** Faults this long before a key's first row change, up to its check, are listed as "around" it. */
const AROUND_MS = 30_000;

export function evidenceDir(seed: number, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  return path.resolve(process.env.SOAK_EVIDENCE_DIR ?? path.join(os.tmpdir(), 'sendonce-soak-evidence', `seed-${seed}-${stamp}`));
}

/** The keys a violation names (`email:{template}:{recipient}:{window}`). */
export function keysIn(violation: string): string[] {
  return violation.match(/email:[^\s:]+:[^\s:]+:[^\s,;)]+/g) ?? [];
}

/** Writes everything but the database (which the stack moves into `dir`/database when it stops). */
export async function writeEvidence(dir: string, input: EvidenceInput): Promise<void> {
  fs.mkdirSync(path.join(dir, 'workers'), { recursive: true });
  const { world } = input;
  const messages = world.sink.messages();
  writeJsonLines(path.join(dir, 'checks.jsonl'), input.checks);
  writeJsonLines(path.join(dir, 'sink.jsonl'), messages.map(sinkLine));
  writeJsonLines(path.join(dir, 'faults.jsonl'), input.injections.map((i) => ({ ...i, startedAt: new Date(i.startedAt), endedAt: i.endedAt && new Date(i.endedAt) })));
  writeJsonLines(path.join(dir, 'runs.jsonl'), input.runs);
  const { rows: history } = await world.pool.query('SELECT * FROM chaos_send_history ORDER BY at, id');
  writeJsonLines(path.join(dir, 'send-history.jsonl'), history);
  for (const w of world.workers.workers) {
    fs.writeFileSync(path.join(dir, 'workers', `${w.n}.log`), `# worker ${w.n}, pid ${w.proc.child.pid}, bundle ${path.basename(w.bundlePath)}${w.retired ? ', retired or dead' : ''}\n${w.proc.output()}`);
  }
  const keys = [...new Set(input.violations.flatMap(keysIn))].slice(0, 10);
  const stories = await Promise.all(keys.map((key) => keyStory(key, input, messages)));
  fs.writeFileSync(path.join(dir, 'README.md'), [
    `# Soak evidence: seed ${input.seed}`,
    '',
    '## Violations',
    '',
    ...input.violations.map((v) => `- ${v}`),
    '',
    ...stories.flat(),
    '## Files',
    '',
    'checks.jsonl, sink.jsonl, faults.jsonl, runs.jsonl, send-history.jsonl, workers/*.log; the database in',
    '`database/` (open it with `node --import tsx devkit/open-db.ts <this folder>/database`).',
    '',
  ].join('\n'));
}

function sinkLine(m: SinkMessage) {
  return { receivedAt: m.receivedAt, key: keyOf(m), messageId: m.messageId, connection: m.connection, answered: !m.unanswered };
}

/** One key's story from every source, in time order where there is one. */
async function keyStory(key: string, input: EvidenceInput, messages: readonly SinkMessage[]): Promise<string[]> {
  const [, template, recipientId, window] = key.split(':');
  const job = jobs.find((j) => j.template === template);
  const history = await sendHistory(input.world.pool, key);
  const firstChange = history.length > 0 ? (history[0]!.at as Date).getTime() : Date.now();
  const foundBy = input.checks.find((c) => c.violations.some((v) => v.includes(key)));
  const until = foundBy ? foundBy.reads.sinkAfter.getTime() : Date.now();
  const faults = input.injections.filter((i) => (i.endedAt ?? Infinity) >= firstChange - AROUND_MS && i.startedAt <= until);
  const logLines = input.world.workers.workers.flatMap((w) =>
    w.proc.lines.filter((l) => String(l.recipientId) === recipientId && l.jobName === job?.name).map((l) => `worker ${w.n}: ${JSON.stringify(l)}`),
  );
  const copies = messages.filter((m) => keyOf(m) === key);
  return [
    `## ${key}`,
    '',
    foundBy
      ? `Found by the check after tick ${foundBy.tick}: sink read at ${iso(foundBy.reads.sinkBefore)} (${foundBy.reads.messagesBefore} messages), rows read, sink read again at ${iso(foundBy.reads.sinkAfter)} (${foundBy.reads.messagesAfter} messages).`
      : 'Found by the final check.',
    '',
    '### Row history (chaos_send_history)',
    '',
    ...table(['at', 'op', 'state', 'attempts', 'resends', 'fence', 'run', 'lease until', 'error', 'code'],
      history.map((h) => [iso(h.at as Date), h.op, h.state, h.attempts, h.resends, h.fence, h.run_id, h.lease_until ? iso(h.lease_until as Date) : '', h.last_error_type, h.last_smtp_code])),
    '### At the sink',
    '',
    ...(copies.length === 0 ? ['No message with this key, to the end of the soak.', ''] : table(['received', 'Message-ID', 'connection', 'answered'], copies.map((m) => [iso(m.receivedAt), m.messageId, m.connection, m.unanswered ? 'no (cut)' : 'yes']))),
    `### Runs of ${job?.name ?? template} ${window}`,
    '',
    ...table(['kind', 'workflow', 'run', 'started', 'ended', 'outcome', 'sent'],
      input.runs.filter((r) => r.job === job?.name && r.window === window).map((r) => [r.kind, r.workflowId, r.runId, iso(r.startedAt), iso(r.endedAt), `${r.outcome}${r.reason ? ` (${r.reason})` : ''}`, r.sent])),
    `### Faults from ${AROUND_MS / 1000} s before its first row change to its check`,
    '',
    ...table(['kind', 'started', 'ended', 'detail'], faults.map((f) => [f.kind, iso(new Date(f.startedAt)), f.endedAt ? iso(new Date(f.endedAt)) : '', f.detail ?? f.error ?? ''])),
    `### Worker log lines of recipient ${recipientId}`,
    '',
    ...(logLines.length === 0 ? ['none (sends are logged at debug level; failures and takeovers at warn)'] : logLines.map((l) => `    ${l}`)),
    '',
  ];
}

function table(head: string[], rows: unknown[][]): string[] {
  if (rows.length === 0) return ['none', ''];
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => String(c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`), ''];
}

const iso = (d: Date) => d.toISOString();

function writeJsonLines(file: string, rows: readonly unknown[]): void {
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : ''));
}
