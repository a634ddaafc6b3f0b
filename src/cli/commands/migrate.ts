import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../../db/database.js';
import { createDb, createPool } from '../../db/pool.js';
import { createLogger } from '../../logger.js';
import { runCleanups } from '../lifecycle.js';
import { migrate } from '../runtime.js';

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
      const handle = await openDatabase(config, logger);
      const pool = createPool(handle.url, { max: 2, applicationName: 'runwarden-migrate' });
      const db = createDb(pool);
      try {
        await migrate(db, pool, logger);
      } finally {
        await runCleanups(logger, [async () => handle.embedded?.stop(), () => db.destroy()]);
      }
    });
}
