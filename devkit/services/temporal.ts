import { spawn, type ChildProcess } from 'node:child_process';
import { waitForPort } from './ports';
import { stopChild } from './processes';
import { searchAttributeFlags } from '../../src/visibility';
import { temporalCliPath } from './tool-paths';

export interface TemporalDevServerHandle {
  readonly address: string;
  readonly port: number;
  readonly uiUrl: string | undefined;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface StartTemporalOptions {
  port: number;
  /** Web UI port; omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file so schedules and runs survive a restart; omit for in-memory. */
  dbFilename?: string;
  /**
   * Register sendonce's search attributes (default true). The flag only acts when the SQLite file is new: npm start
   * also registers them through the API for a state file from before (src/visibility.ts).
   */
  searchAttributes?: boolean;
}

/** Start `temporal server start-dev` on 127.0.0.1 using the CLI that scripts/bootstrap.sh installed. */
export async function startTemporalDevServer(options: StartTemporalOptions): Promise<TemporalDevServerHandle> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'error'];
  if (options.uiPort !== undefined) args.push('--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFilename) args.push('--db-filename', options.dbFilename);
  if (options.searchAttributes !== false) args.push(...searchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]));
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`could not start the temporal CLI: ${err.message} (run scripts/bootstrap.sh)`)));
    child.once('exit', (code) => reject(new Error(`temporal dev server exited with code ${code}: ${stderr.trim()}`)));
  });
  try {
    await Promise.race([waitForPort(options.port, 'temporal dev server', 60_000), exited]);
    if (options.uiPort !== undefined) await Promise.race([waitForPort(options.uiPort, 'temporal web UI', 60_000), exited]);
  } catch (err) {
    await stopChild(child, 2_000); // it may be running but not listening: nobody else would stop it
    throw err;
  } finally {
    exited.catch(() => undefined);
  }
  return {
    address: `127.0.0.1:${options.port}`,
    port: options.port,
    uiUrl: options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined,
    process: child,
    stop: () => stopChild(child),
  };
}
