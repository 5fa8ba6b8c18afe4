/**
 * "At a random point mid-batch": the sink answers every DATA `delayMs` late (a slow server, so the batch is
 * spread out), and the k-th message to arrive fires the fault while the sink still holds that message — so
 * a fault can land inside the at-least-once window (message stored, reply not yet sent).
 */
import type { DataContext } from '../../../devkit/smtp-sink';
import type { World } from '../world';

export interface FaultPoint {
  /** Resolves when the fault has fired and finished (e.g. the service is back). */
  done: Promise<void>;
  /** Messages accepted when the fault fired. */
  firedAt(): number | undefined;
}

/** `delayMs` may be a function, read at every message (e.g. slow until the fault has had its effect). */
export function faultAtMessage(
  world: World,
  k: number,
  fault: (held: DataContext) => Promise<void> | void,
  delayMs: number | (() => number) = 20,
): FaultPoint {
  let arrivals = 0;
  let fired: number | undefined;
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  world.sink.onData((held) => {
    arrivals += 1;
    if (arrivals === k) {
      fired = world.sink.count;
      Promise.resolve()
        .then(() => fault(held))
        .then(resolve, reject);
    }
    return { delayMs: typeof delayMs === 'function' ? delayMs() : delayMs };
  });
  return { done, firedAt: () => fired };
}
