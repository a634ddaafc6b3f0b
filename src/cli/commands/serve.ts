import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { metricsNote, startApi } from '../api.js';
import { startReconciler } from '../background.js';
import { installLifecycle } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP API on PORT (default 3000) against DATABASE_URL; no worker.')
    .addHelpText(
      'after',
      [
        '',
        'Stateless: run as many as you like behind a load balancer (sessions, cursors and the live',
        'stream work across them). Each also sweeps for stale runs (RUNWARDEN_RECONCILE_INTERVAL_SECONDS),',
        'so truth converges even when every worker is down.',
        'Serves the API under /api, /metrics, OpenAPI at /api/openapi.json and Swagger UI at /api/docs.',
        'Run `runwarden migrate` first.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const lifecycle = installLifecycle(logger);
      const runtime = await openRuntime(config, logger, lifecycle, {
        kind: 'serve',
        requireDatabaseUrl: 'runwarden serve',
      });
      startReconciler(runtime, config, logger, lifecycle);
      lifecycle.phase('starting the API');
      const { app, url } = await startApi(runtime, config, logger);
      lifecycle.add(() => app.close());
      lifecycle.ready();
      logger.info(
        { url, metricsOpen: !config.metricsToken },
        `Runwarden API listening on ${url} (OpenAPI at ${url}/api/docs)${metricsNote(config)}`,
      );
    });
}
