import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { installLifecycle } from '../lifecycle.js';
import { migrate, openDatabase } from '../runtime.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (idempotent; safe to run on every deploy).')
    .addHelpText(
      'after',
      '\nUses DATABASE_URL, or the embedded PostgreSQL under RUNWARDEN_DATA_DIR when it is unset.\n' +
        "Creates Runwarden's tables and the job queue's schema (graphile_worker).",
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const lifecycle = installLifecycle(logger);
      const handle = await openDatabase(config, logger, lifecycle);
      await migrate(handle.url, config.dbTimeouts, logger, lifecycle);
      if (!(await lifecycle.close())) process.exitCode = 1;
    });
}
