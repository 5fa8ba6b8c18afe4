/**
 * `sendonce setup`: what a namespace needs before the first run — sendonce's search attributes (src/visibility.ts).
 * `sendonce temporal …`: the pinned Temporal CLI, pointed at the same Temporal (src/cli/temporal-cli.ts).
 */
import type { Command } from 'commander';
import { temporalTarget } from '../temporal-connection';
import { createCommands, registerSearchAttributes } from '../visibility';
import type { Session } from './session';
import { runTemporalCli } from './temporal-cli';

export function addSetupCommands(program: Command, session: () => Session, exitWith: (code: number) => void): void {
  program
    .command('setup')
    .description("register sendonce's search attributes in the namespace (self-hosted or dev server; for Temporal Cloud see docs/operating.md)")
    .addHelpText('after', `\nThe same with the Temporal CLI:\n  ${createCommands('<namespace>').join('\n  ')}`)
    .action(async () => {
      const namespace = temporalTarget().namespace;
      const added = await registerSearchAttributes(await session().temporal(), namespace);
      console.log(added.length > 0 ? `namespace ${namespace}: added ${added.join(', ')}` : `namespace ${namespace}: every search attribute is there`);
    });
  program
    .command('temporal')
    .description('run the pinned Temporal CLI against the same Temporal (e.g. `sendonce temporal schedule toggle --pause …`)')
    .argument('[args...]', 'arguments for the temporal CLI')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (args: string[]) => {
      exitWith(await runTemporalCli(args));
    });
}
