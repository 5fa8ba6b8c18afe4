/** `sendonce deploy status|promote|rollback`: steering the Worker Deployment (a thin shell over src/api/deploy.ts). */
import type { Command } from 'commander';
import { deployStatus, promoteVersion, rollbackVersion } from '../api';
import { loadPartialConfig } from '../config';
import type { Session } from './session';
import { printJson, printRows } from './output';

export function addDeployCommands(program: Command, session: () => Session): void {
  const deploy = program
    .command('deploy')
    .description('Worker Versioning: which version new runs go to, which still drain; promote and roll back (DEPLOYMENT_NAME)');
  const name = () => loadPartialConfig(['DEPLOYMENT_NAME']).DEPLOYMENT_NAME;
  deploy
    .command('status')
    .description('current version, and every version with its status and open runs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = session();
      const d = await deployStatus(await s.temporal(), name());
      if (opts.json) return printJson(d);
      console.log(`deployment ${d.deploymentName}: current ${d.currentBuildId ?? '(unversioned workers)'}${d.rampingBuildId ? `, ramping ${d.rampingBuildId}` : ''}`);
      printRows(d.versions.map((v) => ({ ...v, openRuns: d.openRuns[v.buildId] ?? 0 })), ['buildId', 'status', 'openRuns', 'createdAt']);
    });
  deploy
    .command('promote')
    .description('make a version current: new ticks run on it; runs in flight stay on theirs')
    .option('--build-id <id>', 'default: the newest version that is not current')
    .action(async (opts: { buildId?: string }) => {
      const s = session();
      const r = await promoteVersion(await s.temporal(), name(), opts.buildId);
      console.log(`current version is now ${r.current} (was ${r.previous ?? 'unversioned'}); runs pinned to ${r.previous ?? 'it'} finish there: stop its workers once \`sendonce deploy status\` shows 0 open runs`);
    });
  deploy
    .command('rollback')
    .description('make the previous version current again (its workers must still run)')
    .option('--to <build-id>', 'default: the newest draining or drained version')
    .action(async (opts: { to?: string }) => {
      const s = session();
      const r = await rollbackVersion(await s.temporal(), name(), opts.to);
      console.log(`rolled back: current version is now ${r.current} (was ${r.previous ?? 'unversioned'})`);
    });
}
