import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createDb } from '../../db/pool.js';
import { createLogger } from '../../logger.js';
import { runCleanups } from '../lifecycle.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (idempotent; safe to run on every deploy).')
    .addHelpText(
      'after',
      '\nUses DATABASE_URL, or the embedded PostgreSQL under RUNWARDEN_DATA_DIR when it is unset.',
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const handle = await openDatabase(config, logger);
      const db = createDb(handle.url, { max: 2, applicationName: 'runwarden-migrate' });
      try {
        const report = await migrateToLatest(db);
        logger.info(
          { applied: report.applied, alreadyApplied: report.alreadyApplied },
          report.applied.length
            ? `applied ${report.applied.length} migration(s)`
            : 'database already up to date',
        );
      } finally {
        await runCleanups(logger, [async () => handle.embedded?.stop(), () => db.destroy()]);
      }
    });
}
