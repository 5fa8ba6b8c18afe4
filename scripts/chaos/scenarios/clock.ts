/**
 * Scenario 11: two workers on one task queue whose clocks disagree across midnight UTC — one at 23:59:40, one
 * already at 00:05 the next day (libfaketime, LD_PRELOAD, the whole process: Node and Temporal's core alike).
 * Two runs straddle the boundary: nominal 23:59:50 (window 2026-11-20) and 00:00:10 (window 2026-11-21).
 * Whichever worker sends, each key's window must come from the nominal time: one message per user per window,
 * no key in a third window — and the skewed worker's own Date headers prove it did send some of the first.
 */
import fs from 'node:fs';
import type { SinkMessage } from '../../../devkit/smtp-sink';
import { chaosDigest } from '../jobs';
import { settle, type Scenario } from '../scenario';
import { keyOf } from '../invariants';

const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
].find((p) => fs.existsSync(p));

const BEFORE = { scheduledAt: '2026-11-20T23:59:50Z', window: '2026-11-20' };
const AFTER = { scheduledAt: '2026-11-21T00:00:10Z', window: '2026-11-21' };

function skewedClock(fakeTime: string): Record<string, string> {
  if (!LIBFAKETIME) throw new Error('libfaketime is not installed: apt-get install -y faketime');
  // Only the wall clock is faked: Temporal's core measures timeouts on the monotonic clock.
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: fakeTime, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

export const clockSkew: Scenario = {
  id: 11,
  name: 'clock-skew-midnight',
  title: 'two workers with clocks on either side of midnight UTC (libfaketime) run ticks at 23:59:50 and 00:00:10',
  job: chaosDigest,
  recipients: 150,
  async run(world) {
    await world.startWorker(skewedClock('@2026-11-20 23:59:40'));
    await world.startWorker(skewedClock('@2026-11-21 00:05:00'));
    world.sink.onData(() => ({ delayMs: 10 }));
    const first = await world.result(await world.startRun({ scheduledAt: BEFORE.scheduledAt }));
    const second = await world.result(await world.startRun({ scheduledAt: AFTER.scheduledAt }));
    const outcome = await settle(world, [first, second], [BEFORE.window, AFTER.window]);
    for (const [run, want] of [[first, BEFORE], [second, AFTER]] as const) {
      if (run.window !== want.window) outcome.violations.push(`run at ${want.scheduledAt} used window ${run.window}, expected ${want.window}`);
    }
    const fromSkewed = datedNextDay(world.sink.messages(), BEFORE.window);
    world.notes.push(`${fromSkewed} messages of window ${BEFORE.window} sent by the worker whose clock read ${AFTER.window}`);
    if (fromSkewed === 0) outcome.violations.push('the skewed worker sent none of the first window: skew not exercised');
    return outcome;
  },
};

/** Messages of `window` whose Date header (the sending worker's clock) is already past that day. */
function datedNextDay(messages: readonly SinkMessage[], window: string): number {
  const endOfDay = Date.parse(`${window}T23:59:59.999Z`);
  return messages.filter((m) => {
    if (!keyOf(m)?.endsWith(`:${window}`)) return false;
    const date = /^Date:[ \t]*(.+)$/im.exec(m.rawHeaders)?.[1];
    return date !== undefined && Date.parse(date) > endOfDay;
  }).length;
}
