import type pg from 'pg';
import type { Logger } from 'pino';
import pino from 'pino';
import type { z } from 'zod';
import { createDirectory, type Directory } from './access/directory.js';
import { resolveStartRefs, type StartRefs } from './access/start-refs.js';
import { alertWork } from './alerts/tasks.js';
import { type DbTimeouts, DEFAULT_DB_TIMEOUTS } from './config.js';
import { migrateToLatest } from './db/migrate.js';
import { createDb, createPool, type Db, withoutStatementTimeout } from './db/pool.js';
import type { RunRow } from './db/schema.js';
import { registerBuiltins } from './execution/bulk-action.js';
import type { cancelRun } from './execution/cancel.js';
import { type ExternalReport, reportExternal } from './execution/external.js';
import type { OperationDefinition } from './execution/operation.js';
import { migrateQueue } from './execution/queue.js';
import { OperationRegistry } from './execution/registry.js';
import { rerunRun } from './execution/rerun.js';
import { type StartRequest, startRun } from './execution/start.js';
import { DEFAULT_CONCURRENCY, startWorker, type WorkerHandle } from './execution/worker.js';
import { cancelAnyRun } from './fleet/cancel-fleet.js';
import { retryFleet } from './fleet/retry-fleet.js';
import { type FleetRequest, type FleetStarted, startFleet } from './fleet/start-fleet.js';
import { rollupFold } from './insights/rollups.js';
import { startReconcilerLoop } from './lifecycle/reconciler.js';
import { dailyPrune } from './lifecycle/retention.js';
import { startUpkeepLoop } from './lifecycle/upkeep.js';
import { RunService } from './runs/run-service.js';

export interface RunwardenOptions {
  /** The PostgreSQL every Runwarden process shares. */
  databaseUrl: string;
  /** Your operation types (see `defineOperation`). */
  operations: ReadonlyArray<OperationDefinition<z.ZodType>>;
  logger?: Logger;
  /** Connections for starts and reads (default 10); workers open their own pool. */
  poolSize?: number;
  /**
   * Every pool's connect, statement and idle-in-transaction limits (default DEFAULT_DB_TIMEOUTS:
   * 5 s, 30 s, 60 s), so a silent network fails into the retry path instead of hanging.
   */
  dbTimeouts?: DbTimeouts;
}

export interface RunwardenWorkerOptions {
  /** Jobs this worker runs at once (default 8). */
  concurrency?: number;
  /** How long in-flight handlers get to finish on stop before they are handed back (default 25). */
  shutdownGraceSeconds?: number;
  /** Prune terminal runs older than this many days, daily at 03:15 UTC (DESIGN §9). Unset: no pruning. */
  retentionDays?: number;
  /** How often the reconciler loop that runs beside the worker sweeps for stale runs (default 5). */
  reconcileIntervalSeconds?: number;
  /** What each run's log keeps (default 2,000 lines and 1 MiB; see "Run logs"). */
  runLogCaps?: { maxLines: number; maxBytes: number };
  /**
   * Alert evaluation and delivery (see "Alerts"): the console's URL for run links (default
   * http://localhost:3000), SMTP for email rules, and whether webhooks may go to private addresses.
   */
  alerts?: {
    publicUrl?: string;
    smtpUrl?: string;
    smtpFrom?: string;
    allowPrivateAddresses?: boolean;
    /** First retry of a failed delivery after this, then doubling (default 10 s). */
    retryBaseMs?: number;
  };
}

export interface RunwardenReconcilerOptions {
  /** How often the loop sweeps for stale runs (default 5, as every CLI process). */
  intervalSeconds?: number;
}

/** A running reconciler loop; `stop()` waits for a sweep in progress. */
export interface ReconcilerHandle {
  stop(): Promise<void>;
}

/** A start request naming its scope by Runwarden ids or by your keys (slugs, emails). */
export type RunwardenStartRequest = Omit<
  StartRequest,
  'workspaceId' | 'tenantId' | 'initiatorUserId'
> &
  StartRefs;

/** A fleet's start (DESIGN §19): the workspace by slug or id, the initiator by email or id. */
export type RunwardenFleetRequest = Omit<FleetRequest, 'workspaceId' | 'initiatorUserId'> &
  Pick<StartRefs, 'workspace' | 'workspaceId' | 'initiator' | 'initiatorUserId'>;

export interface Runwarden {
  registry: OperationRegistry;
  runs: RunService;
  db: Db;
  /** Creates Runwarden's tables and the queue schema; safe to call on every boot. */
  migrate(): Promise<void>;
  /**
   * Starts (or reuses) a run and queues its job in one transaction; never waits for the work.
   * The workspace and tenant by slug or id, the initiator by email or id (DESIGN §15).
   */
  start(request: RunwardenStartRequest): Promise<{ run: RunRow; reused: boolean }>;
  /**
   * Starts one run of a tenant type on every (or the named) active tenant, under one parent run
   * whose status and counts follow its children (DESIGN §19); all in one transaction.
   */
  startFleet(request: RunwardenFleetRequest): Promise<FleetStarted>;
  /**
   * Starts a finished fleet again over its tenants that did not succeed: a new parent linked to
   * the old one (`retryOf`), same type and input (DESIGN §19).
   */
  retryFleet(parentId: string, by?: { initiatorUserId?: string | null }): Promise<FleetStarted>;
  /**
   * Runs a run again (DESIGN §18), with edited input or the original's: a new run linked by
   * `rerunOf`; the original is unchanged.
   */
  rerun(
    runId: string,
    options?: { input?: Record<string, unknown>; initiatorUserId?: string | null },
  ): Promise<{ run: RunRow; reused: boolean }>;
  /**
   * The directory (DESIGN §10, §15): idempotent, audited upserts of workspaces, tenants, members
   * and platform staff keyed by your own keys, `sync(directoryJson, {prune, dryRun})`, tokens.
   */
  directory: Directory;
  cancel(runId: string, by?: { userId: string | null }): ReturnType<typeof cancelRun>;
  /** For `execution: 'external'` types: the outside system reports its state. */
  report(runId: string, report: ExternalReport): ReturnType<typeof reportExternal>;
  /**
   * Runs a worker in this process, and beside it the reconciler loop (as every CLI process does),
   * so runs whose worker died end in terminal truth; `handle.stop()` stops both.
   */
  worker(options?: RunwardenWorkerOptions): Promise<WorkerHandle>;
  /** Runs the reconciler loop alone (for processes without a worker); `close()` stops it too. */
  reconciler(options?: RunwardenReconcilerOptions): ReconcilerHandle;
  /**
   * A new connection pool on the same database (runwarden/fastify's live stream LISTENs on one);
   * whoever opens it ends it.
   */
  openPool(options: { max: number; applicationName: string }): pg.Pool;
  close(): Promise<void>;
}

/**
 * The library entry point for a platform's backend.
 *
 * @example
 * const rw = createRunwarden({ databaseUrl: process.env.DATABASE_URL!, operations: [inventorySync] });
 * await rw.migrate();
 * const { run, reused } = await rw.start({ type: 'inventory.sync', workspaceId, tenantId, input: { scope: 'all' }, initiatorUserId });
 */
export function createRunwarden(options: RunwardenOptions): Runwarden {
  const logger = options.logger ?? pino({ level: 'info' });
  const registry = new OperationRegistry(options.operations);
  const timeouts = options.dbTimeouts;
  const pool = createPool(options.databaseUrl, { max: options.poolSize ?? 10, timeouts });
  const db = createDb(pool);
  const runs = new RunService({ db });
  registerBuiltins({ db, runs, registry });
  const workers: Array<{ handle: WorkerHandle; pool: ReturnType<typeof createPool> }> = [];
  const reconcilers = new Set<ReconcilerHandle>();
  const reconciler = (intervalSeconds = 5): ReconcilerHandle => {
    const loop = startReconcilerLoop({ db, runs, registry, logger }, intervalSeconds);
    const handle: ReconcilerHandle = {
      async stop() {
        reconcilers.delete(handle);
        await loop.stop();
      },
    };
    reconcilers.add(handle);
    return handle;
  };
  return {
    registry,
    runs,
    db,
    openPool: (pool) => createPool(options.databaseUrl, { ...pool, timeouts }),
    async migrate() {
      // Over a pool of their own without a statement timeout: a migration may run long.
      const untimed = createPool(options.databaseUrl, {
        max: 1,
        applicationName: 'runwarden-migrate',
        timeouts: withoutStatementTimeout(timeouts ?? DEFAULT_DB_TIMEOUTS),
      });
      const migrating = createDb(untimed);
      try {
        await migrateToLatest(migrating);
        await migrateQueue(untimed);
      } finally {
        await migrating.destroy();
      }
    },
    async start({ workspace, workspaceId, tenant, tenantId, initiator, initiatorUserId, ...rest }) {
      const refs = { workspace, workspaceId, tenant, tenantId, initiator, initiatorUserId };
      return await startRun(
        { db, runs, registry },
        { ...rest, ...(await resolveStartRefs(db, refs)) },
      );
    },
    async startFleet({ workspace, workspaceId, initiator, initiatorUserId, ...rest }) {
      const refs = { workspace, workspaceId, initiator, initiatorUserId };
      const resolved = await resolveStartRefs(db, refs);
      return await startFleet(
        { db, runs, registry },
        { ...rest, workspaceId: resolved.workspaceId, initiatorUserId: resolved.initiatorUserId },
      );
    },
    retryFleet: (parentId, by = {}) =>
      retryFleet({ db, runs, registry }, { parentId, initiatorUserId: by.initiatorUserId ?? null }),
    rerun: (runId, { input, initiatorUserId = null } = {}) =>
      rerunRun({ db, runs, registry }, { runId, initiatorUserId, ...(input ? { input } : {}) }),
    directory: createDirectory({ db }),
    cancel: (runId, by = { userId: null }) => cancelAnyRun({ db, runs }, runId, by),
    report: (runId, report) => reportExternal({ db, runs, registry }, runId, report),
    async worker({ retentionDays, reconcileIntervalSeconds, alerts, ...workerOptions } = {}) {
      const alerting = alertWork({
        db,
        policyOf: registry.policyOf,
        ...alerts,
        publicUrl: (alerts?.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, ''),
      });
      const workerPool = createPool(options.databaseUrl, {
        max: (workerOptions.concurrency ?? DEFAULT_CONCURRENCY) + 2,
        timeouts,
      });
      const handle = await startWorker({
        db,
        pgPool: workerPool,
        databaseUrl: options.databaseUrl,
        dbTimeouts: timeouts,
        runs,
        registry,
        logger,
        maintenance: retentionDays ? [dailyPrune(db, retentionDays)] : [],
        jobs: alerting.jobs,
        ...workerOptions,
      });
      const loop = reconciler(reconcileIntervalSeconds);
      // Each minute: rollups folded for the charts, and the alerts' clock rules.
      const upkeep = startUpkeepLoop([rollupFold(db, retentionDays), ...alerting.upkeep], logger);
      const both: WorkerHandle = {
        ...handle,
        async stop() {
          await Promise.all([loop.stop(), upkeep.stop(), handle.stop()]);
        },
      };
      workers.push({ handle: both, pool: workerPool });
      return both;
    },
    reconciler: (reconcilerOptions = {}) => reconciler(reconcilerOptions.intervalSeconds),
    async close() {
      await Promise.all([...reconcilers].map((loop) => loop.stop()));
      for (const { handle, pool: workerPool } of workers.splice(0)) {
        await handle.stop();
        await workerPool.end();
      }
      await db.destroy();
    },
  };
}
