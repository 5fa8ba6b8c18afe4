/**
 * Orderly shutdown of a worker process. First SIGTERM/SIGINT: stop polling, let in-flight activities finish
 * (bounded by SHUTDOWN_GRACE_MS), then close everything in reverse order of creation, one log line per step.
 * A second signal exits at once (an operator who asks twice means it; in-flight sends then end `unknown`).
 */
import type { Logger } from './logger';

export interface CloseStep {
  name: string;
  close(): Promise<unknown> | unknown;
}

/** Run each step in turn; a failing step is logged and does not stop the ones after it. */
export async function closeInOrder(steps: CloseStep[], logger: Logger): Promise<void> {
  for (const step of steps) {
    const started = Date.now();
    try {
      await step.close();
      logger.info({ step: step.name, durationMs: Date.now() - started }, 'worker_closed');
    } catch (err) {
      logger.warn({ step: step.name, durationMs: Date.now() - started, err: (err as Error).message }, 'worker_close_failed');
    }
  }
}

export interface SignalHandlers {
  /** First signal: begin the graceful shutdown. */
  graceful(signal: NodeJS.Signals): void;
}

/** Exit codes by convention: 128 + signal number. */
const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export function handleTerminationSignals(logger: Logger, handlers: SignalHandlers): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      logger.warn({ signal }, 'worker_exit_now');
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    logger.info({ signal }, 'worker_shutting_down');
    handlers.graceful(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
