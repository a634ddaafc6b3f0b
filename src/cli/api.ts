import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { buildApp } from '../http/app.js';
import type { Logger } from '../logger.js';
import { DEMO_LOGINS } from './demo-seed/index.js';
import type { Runtime } from './runtime.js';

/** Builds the API on a runtime and listens on PORT; lists the demo logins when the demo is here. */
export async function startApi(
  runtime: Runtime,
  config: Config,
  logger: Logger,
): Promise<{ app: FastifyInstance; url: string }> {
  const demo = await runtime.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', DEMO_LOGINS[0].email)
    .executeTakeFirst();
  const app = await buildApp({
    db: runtime.db,
    pool: runtime.pool,
    logger,
    registry: runtime.registry,
    runs: runtime.runs,
    options: {
      demoLogins: demo ? [...DEMO_LOGINS] : [],
      trustProxy: config.trustProxy,
      metricsToken: config.metricsToken,
      runLogCaps: config.runLogCaps,
    },
  });
  await app.listen({ port: config.port, host: config.host });
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return { app, url: `http://${shown}:${config.port}` };
}

/** What the startup line adds about `/metrics`: open to anyone unless a token is set. */
export function metricsNote(config: Pick<Config, 'metricsToken'>): string {
  return config.metricsToken
    ? ''
    : '; /metrics is open to anyone who can reach it (set RUNWARDEN_METRICS_TOKEN to require a token)';
}
