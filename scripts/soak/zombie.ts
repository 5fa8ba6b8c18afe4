/** The zombie-lock-holder fault of the soak (nemesis.ts): chaos scenario 5 among the random faults. */
import { until } from '../chaos/scenario';
import { sleep } from '../chaos/stack';
import { retrying, type Ticker } from './ticker';
import type { SoakWorld } from './world';

/**
 * Chaos scenario 5 as a fault: the whole pool freezes (a host suspended, a long GC) past the lock TTL with a tick
 * in flight, so its lock lapses; a second trigger of that tick takes the lock with a newer fence on the first
 * worker to wake up, which is frozen again as soon as that run has claimed; then the others wake — zombies whose
 * sends queued behind their SMTP slots were never claimed — and try to claim them with the old fence, which must
 * refuse every one (the no-overlap check fails otherwise). Then everyone runs again.
 */
export async function zombieHolder(world: SoakWorld, ticker: Ticker): Promise<string> {
  const target = ticker.recurringTickInFlight();
  const frozen = world.workers.alive().filter((w) => !w.paused);
  if (!target || frozen.length < 2) return !target ? 'no tick in flight' : 'fewer than two running workers';
  const newest = async () =>
    (await world.pool.query<{ f: number | null }>('SELECT max(fence)::int AS f FROM chaos_claim_log WHERE job_name = $1', [target.job.name])).rows[0]?.f ?? 0;
  const fenceBefore = await retrying(newest); // Postgres may be restarting (another fault)
  const signal = (ws: typeof frozen, sig: NodeJS.Signals) => ws.forEach((w) => ((w.paused = sig === 'SIGSTOP'), w.proc.child.kill(sig)));
  signal(frozen, 'SIGSTOP');
  try {
    await sleep(12_000); // past the 10 s lock TTL
    const second = ticker.duplicate(target);
    const [first, ...zombies] = frozen;
    signal([first!], 'SIGCONT');
    const claimed = await until(async () => (await newest()) > fenceBefore, 'the newer holder to claim', 30_000).then(() => true, () => false);
    signal([first!], 'SIGSTOP');
    signal(zombies, 'SIGCONT');
    await sleep(3_000);
    signal([first!], 'SIGCONT');
    return `${target.job.name}: the newer holder ${claimed ? 'claimed' : 'did not claim within 30 s'} while the zombies were frozen; ${await second}`;
  } finally {
    signal(frozen, 'SIGCONT');
  }
}
