/** What every measurement needs: the services, the one SMTP sink, the counters and the processes whose CPU is measured. */
import type { CounterReader, Watched } from './measure';
import type { Stack } from './services';
import type { SinkProcess } from './sink';

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
