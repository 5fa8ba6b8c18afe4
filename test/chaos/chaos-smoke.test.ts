/**
 * Issue 6 inside `npm test`: one repetition of the fastest chaos scenarios (SMTP faults: no service restart,
 * so they run on the shared test services), through the same code as `npm run chaos` — world, fault,
 * follow-up rule and invariants (scripts/chaos/). The full suite with every fault is `npm run chaos`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgAdminUrl, redisUrl, temporalAddress } from '../../devkit/shared-services';
import { runRepetition } from '../../scripts/chaos/run';
import { smtp550, smtpDownThenBack, smtpDropAfterData } from '../../scripts/chaos/scenarios/smtp';
import type { ChaosServices } from '../../scripts/chaos/stack';
import { prebuiltBundlePath } from '../support/production';

/** The chaos world on the services npm test shares: no service faults, so only scenarios that need none. */
async function chaosServices(): Promise<ChaosServices> {
  return { adminUrl: pgAdminUrl(), redisUrl: redisUrl(), temporalAddress: temporalAddress(), bundlePath: await prebuiltBundlePath() };
}

for (const scenario of [smtp550, smtpDropAfterData, smtpDownThenBack]) {
  test(`chaos ${scenario.id}. ${scenario.name}: ${scenario.title}`, async (t) => {
    const base = Math.floor(Math.random() * 1_000_000);
    const seed = base + scenario.id * 1000 + 1; // as scripts/chaos/main.ts derives it from CHAOS_SEED
    const result = await runRepetition(await chaosServices(), scenario, 1, seed);
    const f = result.figures;
    t.diagnostic(`seed ${seed}: ${JSON.stringify(f)}; ${result.notes.join('; ')}`);
    assert.deepEqual(result.violations, [], `invariants broken (replay: CHAOS_ONLY=${scenario.name} CHAOS_SEED=${base} CHAOS_REPS=1 npm run chaos)`);
    assert.ok(f, 'figures were read');
    assert.equal(f.expected, scenario.recipients);
    assert.equal(f.duplicates, 0);
    assert.equal(f.stuck, 0);
  });
}
