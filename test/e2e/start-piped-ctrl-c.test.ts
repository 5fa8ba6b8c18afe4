/**
 * Issue 25, point 2: `npm start | tee start.log`, then Ctrl-C. A terminal's Ctrl-C sends SIGINT to the whole
 * foreground process group — npm, the stack, and tee, which exits at once — so the stack goes on writing its
 * shutdown lines into a pipe nobody reads. That write must not stall the shutdown: an earlier version kept the SMTP,
 * inbox and unsubscribe ports open for more than 45 s. Run as written (through `sh`, `npm start` and `tee`) on
 * free ports, with the state in a temporary folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, isPortOpen } from '../../devkit/services/ports';
import { testTmpDir } from '../../devkit/shared-services';
import { eventually } from '../support/eventually';

const ROOT = path.resolve(__dirname, '../..');

/** True while any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test('npm start | tee start.log, then Ctrl-C: every port closes and every process exits', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(testTmpDir(), 'tee-'));
  fs.chmodSync(stateDir, 0o755);
  const ports: Record<string, string> = {};
  for (const name of ['PG', 'REDIS', 'TEMPORAL', 'TEMPORAL_UI', 'SMTP', 'INBOX', 'UNSUBSCRIBE']) ports[`SENDONCE_${name}_PORT`] = String(await freePort());
  const logFile = path.join(stateDir, 'start.log');
  // detached: its own process group, as a shell gives a pipeline — the group a terminal's Ctrl-C signals.
  const shell = spawn('sh', ['-c', `npm start | tee ${JSON.stringify(logFile)}`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SENDONCE_STATE_DIR: stateDir, ...ports },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const pgid = shell.pid!;
  t.after(() => {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  });
  let printed = '';
  shell.stderr!.on('data', (c: Buffer) => (printed += c.toString()));
  await eventually(async () => printed.includes('Ctrl-C stops everything') || /\[sendonce\] error/.test(printed), 'npm start to be up', 240_000);
  assert.doesNotMatch(printed, /\[sendonce\] error/, printed);
  const watched = ['SMTP', 'INBOX', 'UNSUBSCRIBE'].map((n) => Number(ports[`SENDONCE_${n}_PORT`]));
  for (const p of watched) assert.ok(await isPortOpen(p), `port ${p} open while npm start runs`);
  assert.ok(fs.readFileSync(logFile, 'utf8').length > 0, 'tee writes what npm start prints');

  const pressed = Date.now();
  process.kill(-pgid, 'SIGINT'); // Ctrl-C
  // Well under the 45 s the stall took; a stack that stops normally takes a few seconds here.
  await eventually(async () => (await Promise.all(watched.map((p) => isPortOpen(p)))).every((open) => !open), 'ports 1025/1080/8089 (here: free ports) closed after Ctrl-C', 30_000);
  const portsClosedMs = Date.now() - pressed;
  await eventually(async () => !groupAlive(pgid), 'every process of the pipeline exited after Ctrl-C', 30_000);
  console.log(`Ctrl-C → ports closed after ${portsClosedMs} ms, every process gone after ${Date.now() - pressed} ms`);
  assert.equal(fs.existsSync(path.join(stateDir, 'stack.json')), false, 'npm start removes stack.json when it stops');
});
