/**
 * Issue 18.1, 18.2, 18.4, 18.5 as a new user meets them: `npm start` (devkit/start.ts) on free ports with its
 * state in a temporary folder, then the docs' own command blocks (README.md and docs/operating.md, found by their
 * `e2e:` markers) run as written, in a "second terminal" whose environment names nothing but PATH and HOME — the
 * CLI finds the stack through stack.json. Also: what npm start prints matches the README's example (no bundle
 * report), the stuck-lock steps clear a hand-set lock, the list queries find the runs, and headless Chromium finds
 * the skipped run in the Web UI's workflow list filtered by outcome (screenshots under the test run's temporary
 * folder, or SENDONCE_SCREENSHOT_DIR).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { LocalStack } from '../../src/cli/local-stack';
import { freePort } from '../../devkit/services/ports';
import { stopChild } from '../../devkit/services/processes';
import { testTmpDir } from '../../devkit/shared-services';
import { launchChromium } from '../support/browser';
import { eventually } from '../support/eventually';
import { readmeBlock, readmeCommands } from '../support/readme';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/sendonce.js');
let start: ChildProcess;
let stateDir: string;
let stack: LocalStack;
let printed = '';
let logs = '';

before(async () => {
  stateDir = fs.mkdtempSync(path.join(testTmpDir(), 'stack-'));
  fs.chmodSync(stateDir, 0o755);
  const ports: Record<string, string> = {};
  for (const name of ['PG', 'REDIS', 'TEMPORAL', 'TEMPORAL_UI', 'SMTP', 'INBOX']) ports[`SENDONCE_${name}_PORT`] = String(await freePort());
  start = spawn(process.execPath, ['--import', 'tsx', 'devkit/start.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SENDONCE_STATE_DIR: stateDir, ...ports },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stderr!.on('data', (c: Buffer) => (printed += c.toString()));
  start.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
  await eventually(async () => printed.includes('Ctrl-C stops everything') || /\[sendonce\] error/.test(printed), 'npm start to be up', 180_000);
  assert.doesNotMatch(printed, /\[sendonce\] error/, printed);
  stack = JSON.parse(fs.readFileSync(path.join(stateDir, 'stack.json'), 'utf8')) as LocalStack;
});

after(async () => {
  if (!start) return;
  await stopChild(start, 60_000, 'SIGINT'); // one Ctrl-C (a second one means "exit now")
  assert.equal(fs.existsSync(path.join(stateDir, 'stack.json')), false, 'npm start removes stack.json when it stops');
});

/** A README command line in the second terminal: `npx sendonce …` is this clone's bin/sendonce.js. */
function second(words: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  assert.deepEqual(words.slice(0, 2), ['npx', 'sendonce'], `README commands start with npx sendonce: ${words.join(' ')}`);
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SENDONCE_STATE_DIR: stateDir };
    execFile(process.execPath, [BIN, ...words.slice(2)], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function runBlock(name: string): Promise<string[]> {
  const outputs: string[] = [];
  for (const words of readmeCommands(name)) {
    const r = await second(words);
    assert.equal(r.code, 0, `${words.join(' ')} (README block ${name}) failed: ${r.stderr}`);
    outputs.push(r.stdout);
  }
  return outputs;
}

test('npm start prints what the README shows, and no bundle report', () => {
  const expected = readmeBlock('npm start prints').map((line) => /^\[sendonce\] +(\S+(?: summary| to look:)?)/.exec(line)?.[1]).filter(Boolean);
  const actual = printed.split('\n').map((line) => /^\[sendonce\] +(\S+(?: summary| to look:)?)/.exec(line)?.[1]).filter(Boolean);
  assert.deepEqual(actual.slice(0, expected.length), expected, `npm start printed:\n${printed}`);
  assert.match(printed, /run summary +daily-digest window \d{4}-\d{2}-\d{2}: completed · processed 25 · sent 25/);
  for (const line of logs.split('\n')) assert.ok(line.length < 2_000, `a ${line.length}-character log line: ${line.slice(0, 200)}…`);
  assert.doesNotMatch(logs, /webpack|Workflow bundle created|asset workflow-bundle/);
});

test('the README operating commands work copy-pasted in a second terminal', async () => {
  const [runs, , trigger] = await runBlock('operating commands');
  assert.match(runs!, /^started +job +window +outcome/);
  assert.match(runs!, /daily-digest +\S+ +completed +25/);
  assert.match(trigger!, /^(started sendonce-daily-digest-\S+ \(run \S+\)|not started: overlap skip dropped the trigger because sendonce-daily-digest-\S+ is in progress)\n$/);
});

let skippedWorkflowId: string;

test('the README stuck-lock steps: a lock set by hand is explained, broken, and the job runs again', async () => {
  const redis = new Redis(stack.env.REDIS_URL!);
  try {
    // Not over a run in progress (the backfill's runs may still be sending): its lock would be overwritten.
    await eventually(async () => {
      const d = JSON.parse((await second(['npx', 'sendonce', 'schedule', 'describe', '--job', 'daily-digest', '--json'])).stdout) as { runningWorkflowIds: string[] };
      return d.runningWorkflowIds.length === 0;
    }, 'no digest run in progress', 120_000);
    await redis.set('job:daily-digest:lock', 'x'); // what the issue did by hand
    const trigger = await second(['npx', 'sendonce', 'schedule', 'trigger', '--job', 'daily-digest']);
    // A scheduled tick starting meanwhile is skipped the same way (and the trigger then names it as in progress).
    skippedWorkflowId = /^started (\S+) |because (\S+) is in progress/.exec(trigger.stdout)?.slice(1).find(Boolean) ?? assert.fail(trigger.stdout + trigger.stderr);
    await eventually(async () => /skipped \(locked_no_expiry\)/.test((await second(['npx', 'sendonce', 'runs', '--last', '5'])).stdout), 'the skipped run with its reason');
    const [status, broken, again] = await runBlock('stuck lock');
    assert.match(status!, /held \(Redis key job:daily-digest:lock\) — locked_no_expiry[\s\S]*ttl +no expiry/);
    assert.match(broken!, /^broke the lock of daily-digest \(a token no run recorded\); fence is now \d+/);
    assert.equal(await redis.get('job:daily-digest:lock'), null);
    assert.match(again!, /^(started|not started)/);
  } finally {
    redis.disconnect();
  }
});

test('the README list queries find the runs by job and outcome', async () => {
  const [byJob, skipped] = await eventually(async () => {
    const out = await runBlock('visibility queries');
    return out[1]!.includes(skippedWorkflowId) ? out : undefined;
  }, 'the skipped run in visibility', 60_000);
  assert.match(byJob!, /sendonce-daily-digest-/);
  assert.doesNotMatch(byJob!, /scheduled-notices/, 'the digest runs without the every-minute notices');
  assert.match(skipped!, new RegExp(skippedWorkflowId));
});

test('the Web UI workflow list filtered by outcome shows the skipped run (headless Chromium)', async () => {
  const shots = process.env.SENDONCE_SCREENSHOT_DIR ?? path.join(testTmpDir(), 'screenshots');
  fs.mkdirSync(shots, { recursive: true });
  const chromium = await launchChromium();
  try {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1400, height: 800 });
    for (const [name, query, expected] of [
      ['webui-outcome-skipped', 'SendonceOutcome="skipped"', skippedWorkflowId],
      ['webui-job-daily-digest', 'SendonceJob="daily-digest"', 'sendonce-daily-digest-'],
    ] as const) {
      await page.goto(`${stack.urls.temporalUi}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, { waitUntil: 'networkidle2' });
      // Page code as strings: this project's TypeScript has no DOM types.
      await page.waitForFunction(`document.body.innerText.includes(${JSON.stringify(expected)})`, { timeout: 60_000 });
      const listed = (await page.evaluate('document.body.innerText')) as string;
      if (name === 'webui-outcome-skipped') assert.doesNotMatch(listed, /scheduled-notices/, 'only skipped runs are listed');
      const file = path.join(shots, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      console.log(`screenshot: ${file} (${query})`);
    }
  } finally {
    await chromium.close();
  }
});
