import type pg from 'pg';
import type { Config } from '../config.js';
import { type DatabaseHandle, openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createDb, createPool, type Db } from '../db/pool.js';
import { loadCatalog } from '../execution/catalog.js';
import { migrateQueue } from '../execution/queue.js';
import { OperationRegistry } from '../execution/registry.js';
import type { ScheduleDefinition } from '../execution/schedules.js';
import type { Logger } from '../logger.js';
import { RunService } from '../runs/run-service.js';

/** What a long-running command shares: one database, its pool, the ledger and the catalog. */
export interface Runtime {
  handle: DatabaseHandle;
  pool: pg.Pool;
  db: Db;
  runs: RunService;
  registry: OperationRegistry;
  schedules: ScheduleDefinition[];
  /** Releases the pool, then stops the embedded PostgreSQL if this process started it. */
  close(): Promise<void>;
}

export async function openRuntime(
  config: Config,
  logger: Logger,
  options: { requireDatabaseUrl?: string; migrate?: boolean } = {},
): Promise<Runtime> {
  if (options.requireDatabaseUrl && !config.databaseUrl) {
    throw new Error(
      `${options.requireDatabaseUrl} needs DATABASE_URL: the PostgreSQL every Runwarden process shares ` +
        '(`runwarden start` prints the embedded one).',
    );
  }
  const catalog = await loadCatalog(config.catalogModule);
  const registry = new OperationRegistry(catalog.operations);
  registry.assertValid();
  const handle = await openDatabase(config, logger);
  const pool = createPool(handle.url, { max: 20 });
  const db = createDb(pool);
  if (options.migrate) {
    await migrate(db, pool, logger);
  }
  return {
    handle,
    pool,
    db,
    runs: new RunService({ db }),
    registry,
    schedules: catalog.schedules,
    async close() {
      await db.destroy();
      await handle.embedded?.stop();
    },
  };
}

export async function migrate(db: Db, pool: pg.Pool, logger: Logger): Promise<void> {
  const report = await migrateToLatest(db);
  await migrateQueue(pool);
  logger.info(
    { applied: report.applied },
    report.applied.length
      ? `applied ${report.applied.length} migration(s)`
      : 'database already up to date',
  );
}
