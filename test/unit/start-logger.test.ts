/** Issue 18.5: npm start's readable log lines (LOG_FORMAT=pretty, the default on a terminal) still hide addresses and secrets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { startLogger } from '../../devkit/start-logger';

test('pretty lines: one readable line per event, addresses and passwords hidden', () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const logger = startLogger('info', 'pretty', out);
  logger.info({ runId: 'r1', jobName: 'daily-digest', sent: 25, password: 'hunter2' }, 'job_run_finished');
  logger.warn({ smtpResponse: 'RCPT <someone@example.com> refused' }, 'send_attempt_failed');
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 2, text);
  assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\] INFO: job_run_finished \{"runId":"r1","jobName":"daily-digest","sent":25,"password":"\[redacted\]"\}$/);
  assert.match(lines[1]!, /WARN: send_attempt_failed .*<address>/);
  assert.doesNotMatch(text, /someone@example\.com|hunter2/);
});
