/**
 * A worker process's part in one-click unsubscribe (worker.ts, npm start): serve POST /unsubscribe on
 * UNSUBSCRIBE_PORT when it is set, and warn when recurring jobs go out without unsubscribe links (UNSUBSCRIBE_URL
 * unset) — large mailbox providers require them of bulk senders. A warning, not a refusal: a deployment may still
 * be setting its endpoint up, and tests and one-off-only deployments need none.
 */
import type { Pool } from 'pg';
import type { Config } from '../config';
import { unsubscribeKeys } from './settings';
import { unsubscribeScopeOf, type JobRegistry } from '../jobs';
import type { Logger } from '../logger';
import { startUnsubscribeServer, type UnsubscribeServer } from './http';
import type { UnsubscribeSettings } from './links';

export interface ServeUnsubscribeDeps {
  config: Config;
  logger: Logger;
  jobs: JobRegistry;
  activities: { pool: Pool; unsubscribe?: UnsubscribeSettings | undefined };
}

export async function serveUnsubscribe({ config, logger, jobs, activities }: ServeUnsubscribeDeps): Promise<UnsubscribeServer | undefined> {
  const withLinks = jobs.all().filter((j) => unsubscribeScopeOf(j) !== false).map((j) => j.name);
  if (!activities.unsubscribe && withLinks.length > 0) logger.warn({ jobs: withLinks }, 'unsubscribe_not_configured');
  const keys = unsubscribeKeys(config);
  if (!config.UNSUBSCRIBE_PORT || !keys) return undefined;
  const server = await startUnsubscribeServer({ port: config.UNSUBSCRIBE_PORT, pool: activities.pool, keys, logger });
  logger.info({ port: server.port }, 'unsubscribe_endpoint_started');
  return server;
}
