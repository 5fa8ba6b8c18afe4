/**
 * One repetition of one scenario: build its world, run the fault, stop the workers (so no attempt is still in
 * flight), check the invariants, tear everything down — also when the scenario throws or times out.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveRetry } from '../../src/retry';
import { checkInvariants, type Figures } from './invariants';
import { seededRandom, type Scenario, type ScenarioOutcome } from './scenario';
import type { ChaosServices } from './stack';
import { CHAOS_WINDOW, createWorld, type World } from './world';

export interface RepetitionResult {
  scenario: Scenario;
  repetition: number;
  seed: number;
  passed: boolean;
  figures: Figures | undefined;
  followUps: number;
  violations: string[];
  notes: string[];
  durationMs: number;
}

let active: World | undefined;
/** Ctrl-C: stop the repetition in progress (its worker processes, runs, sink, database). */
export async function closeActiveRepetition(): Promise<void> {
  await active?.close();
}

const TIMEOUT_MS = Number(process.env.CHAOS_SCENARIO_TIMEOUT_MS ?? 240_000);

export async function runRepetition(services: ChaosServices, scenario: Scenario, repetition: number, seed: number): Promise<RepetitionResult> {
  const started = Date.now();
  const world = await createWorld(services, scenario.job, scenario.recipients);
  active = world;
  let outcome: ScenarioOutcome | undefined;
  const violations: string[] = [];
  try {
    outcome = await withTimeout(scenario.run(world, seededRandom(seed)), TIMEOUT_MS, scenario.name);
    violations.push(...outcome.violations);
  } catch (err) {
    violations.push(`scenario did not finish: ${(err as Error).message}`);
  }
  let figures: Figures | undefined;
  try {
    await world.stopWorkers();
    const checked = await check(world, scenario, outcome?.windows ?? [CHAOS_WINDOW]);
    figures = checked.figures;
    violations.push(...checked.violations);
    if (violations.length > 0) world.notes.push(`worker logs in ${keepWorkerLogs(world, scenario, repetition)}`);
  } catch (err) {
    violations.push(`invariants could not be read: ${(err as Error).message}`);
  } finally {
    await world.close();
    active = undefined;
  }
  return {
    scenario,
    repetition,
    seed,
    passed: violations.length === 0,
    figures,
    followUps: outcome?.followUps ?? 0,
    violations,
    notes: world.notes,
    durationMs: Date.now() - started,
  };
}

function check(world: World, scenario: Scenario, windows: readonly string[]) {
  const retry = resolveRetry(scenario.job);
  const job = { name: scenario.job.name, maximumAttempts: retry.maximumAttempts, resendOnce: scenario.job.unknownPolicy === 'resend-once' };
  return checkInvariants(world.pool, job, world.expectedKeys(windows), () => world.sink.messages());
}

/** A failed repetition's worker output (JSON lines), for the post-mortem. */
function keepWorkerLogs(world: World, scenario: Scenario, repetition: number): string {
  const dir = path.join(os.tmpdir(), 'sendonce-chaos-logs', `${scenario.name}-${repetition}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  world.workers.forEach((w, i) => fs.writeFileSync(path.join(dir, `worker-${i + 1}.log`), w.output()));
  return dir;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // a timed-out scenario fails later, when close() pulls its services away
  }
}
