import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { buildApp } from '../../http/app.js';
import { startReconcilerLoop } from '../../lifecycle/reconciler.js';
import { createLogger } from '../../logger.js';
import { onShutdown } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP API on PORT (default 3000) against DATABASE_URL; no worker.')
    .addHelpText(
      'after',
      [
        '',
        'Stateless: run as many as you like behind a load balancer. Each also sweeps for stale runs',
        '(RUNWARDEN_RECONCILE_INTERVAL_SECONDS), so truth converges even when every worker is down.',
        'Serves /api/health, /api/openapi.json and Swagger UI at /api/docs.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const runtime = await openRuntime(config, logger, { requireDatabaseUrl: 'runwarden serve' });
      const app = await buildApp({ db: runtime.db, logger });
      const reconciler = startReconcilerLoop(
        { ...runtime, logger },
        config.reconcileIntervalSeconds,
      );
      onShutdown(logger, [() => runtime.close(), () => reconciler.stop(), () => app.close()]);
      const address = await app.listen({ port: config.port, host: '0.0.0.0' });
      logger.info(
        { address },
        `Runwarden API listening on ${address} (OpenAPI at /api/openapi.json)`,
      );
    });
}
