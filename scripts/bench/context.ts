/** What every measurement needs: the services, the one SMTP sink, the counters and the processes whose CPU is measured. */
import { CounterReader, type Watched } from './measure';
import { startStack, stops, type Stack } from './services';
import { startSinkProcess, type SinkProcess } from './sink';

export interface Ctx {
  stack: Stack;
  sink: SinkProcess;
  counters: CounterReader;
  /** The shared processes (temporal, postgres, redis, sink, driver); each scenario adds its own sender. */
  base: Record<string, Watched>;
}

/** One benchmark database (its name is what pg_stat_statements is filtered by). */
export interface BenchDb {
  name: string;
  url: string;
}

/** Start the services, the sink and the counters (each stopped by `stops`), and name the processes to watch. */
export async function openContext(log: (line: string) => void): Promise<Ctx> {
  const stack = await startStack(log);
  const sink = await startSinkProcess();
  stops.push('smtp sink', () => sink.stop());
  const counters = await CounterReader.open(stack.pgAdminUrl, stack.redis.url);
  stops.push('counters', () => counters.close());
  const base: Record<string, Watched> = {
    temporal: { pid: stack.temporal.process.pid!, tree: true },
    postgres: { pid: stack.pgPid(), tree: true },
    redis: { pid: stack.redis.process.pid!, tree: false },
    sink: { pid: sink.pid, tree: false },
    driver: { pid: process.pid, tree: false },
  };
  return { stack, sink, counters, base };
}
