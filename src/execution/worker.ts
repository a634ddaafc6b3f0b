import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { type DbTimeouts, DEFAULT_DB_TIMEOUTS } from '../config.js';
import type { Database } from '../db/schema.js';
import type { RunLogCaps } from '../domain/run-log-lines.js';
import { Admitter } from '../flow/admitter.js';
import { RunChangePublisher } from '../runs/run-change-publisher.js';
import type { RunService } from '../runs/run-service.js';
import { failedJobBridge } from './failed-job-bridge.js';
import { InflightRuns, startInflightHeartbeat } from './inflight-runs.js';
import { enqueueRun } from './queue.js';
import { queueSlots } from './queue-runner.js';
import type { OperationRegistry } from './registry.js';
import { RunLog } from './run-log.js';
import type { ScheduleDefinition } from './schedules.js';
import { type MaintenanceTask, type ProcessJob, workerTasks } from './task-list.js';
import { newWorkerId, recordQueueWorkerId, registerWorker } from './worker-registration.js';
import { workerShutdown } from './worker-shutdown.js';

export type { MaintenanceTask, ProcessJob } from './task-list.js';

/**
 * Job slots of a worker unless told otherwise. Each slot spends most of a run waiting on the
 * database (fetch, start, completion) or on the handler's own I/O, so one process keeps eight busy
 * on one core; 4 left a single worker at about half of what it drains with 8 (issue #15).
 */
export const DEFAULT_CONCURRENCY = 8;

export interface WorkerOptions {
  db: Kysely<Database>;
  /** graphile-worker takes a pg.Pool of its own (one LISTEN connection plus one per job). */
  pgPool: pg.Pool;
  /** The heartbeat thread opens its own connection with this URL. */
  databaseUrl: string;
  /** The heartbeat connection's limits (default DEFAULT_DB_TIMEOUTS). */
  dbTimeouts?: DbTimeouts;
  runs: RunService;
  registry: OperationRegistry;
  logger: Logger;
  /** Jobs this process runs at once (default DEFAULT_CONCURRENCY, 8). */
  concurrency?: number;
  /** How long in-flight handlers get to finish on shutdown before they are handed back (default 25). */
  shutdownGraceSeconds?: number;
  /** How often to poll for retries scheduled in the future, ms (new jobs arrive by LISTEN/NOTIFY). */
  pollIntervalMs?: number;
  /** Cron schedules this worker fires (every worker may carry them; each tick fires once). */
  schedules?: ScheduleDefinition[];
  /**
   * Upkeep on a cron, supplied by whoever composes the process: e.g. the daily retention prune
   * (`dailyPrune` in src/lifecycle/retention.ts, DESIGN §9). Unset: none.
   */
  maintenance?: MaintenanceTask[];
  /** Jobs added to the queue by the process's own modules (alert evaluation and delivery). */
  jobs?: ProcessJob[];
  /**
   * Called when the queue's job slots died and cannot be restored although the database answers,
   * or the heartbeat thread keeps dying (both logged at fatal first). Default: exit the process
   * with status 1, so a supervisor restarts it.
   */
  onFatal?: (error: unknown) => void;
  /** How often the worker logs its one `info` summary of the runs it finished, ms (default 60 000). */
  runLogSummaryMs?: number;
  /**
   * Run a flow admitter in this process (default true). Held runs start only where some process
   * admits them; off, to measure what admission costs types without `flow` (bench `flow`).
   */
  admission?: boolean;
  /** What each run's log keeps (default 2,000 lines and 1 MiB; RUNWARDEN_RUN_LOG_MAX_*). */
  runLogCaps?: RunLogCaps;
}

export interface WorkerHandle {
  /** This process's id, stored in `operation_runs.worker_id` and `workers.id`. */
  id: string;
  /** Job slots alive right now (equal to the concurrency except while the database is away). */
  liveSlots(): number;
  /** Stop fetching, give in-flight handlers the grace period, hand back the rest, then resolve. */
  stop(): Promise<void>;
}

/** Starts a Runwarden worker: graphile-worker running every queue operation through the wrapper. */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { db, runs, registry } = options;
  const id = newWorkerId();
  const logger = options.logger.child({ workerId: id });
  const inflight = new InflightRuns();
  const graceSeconds = options.shutdownGraceSeconds ?? 25;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const policies = registry.queueOperations().map((op) => op.policy);
  // Results are retried while the database is away for as long as the reconciler would wait.
  const writeWindowMs = Math.max(60, ...policies.map((p) => p.runningStaleAfterSeconds)) * 1000;
  const heartbeatMs = Math.min(...policies.map((p) => p.heartbeatSeconds), 5) * 1000;

  // The hot path's transitions announce themselves in batches, not by a NOTIFY each.
  const changes = new RunChangePublisher(db, logger);
  const runLog = new RunLog(logger, options.runLogSummaryMs);
  // Flow control (DESIGN §17): every worker admits held runs; the admission lock makes them take turns.
  const admitter = options.admission === false ? undefined : flowAdmitter(options, logger);
  const tasks = workerTasks(
    {
      db,
      runs,
      registry,
      logger,
      workerId: id,
      inflight,
      changes,
      runLog,
      flow: admitter,
      runLogCaps: options.runLogCaps,
    },
    options.schedules ?? [],
    options.maintenance ?? [],
    options.jobs ?? [],
  );
  // The catalog's types it serves (Runwarden's own, which every worker runs, go unnamed).
  const types = registry
    .queueOperations()
    .filter((op) => !op.internal)
    .map((op) => op.type);
  await registerWorker(db, { id, concurrency, heartbeatMs, types });
  const heartbeat = startInflightHeartbeat(
    inflight,
    {
      databaseUrl: options.databaseUrl,
      workerId: id,
      intervalMs: heartbeatMs,
      timeouts: options.dbTimeouts ?? DEFAULT_DB_TIMEOUTS,
    },
    logger,
    options.onFatal ?? (() => process.exit(1)),
  );
  const slots = queueSlots({
    db,
    pgPool: options.pgPool,
    tasks,
    concurrency,
    graceSeconds,
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
    logger,
    onJobFailed: failedJobBridge(runs, logger, writeWindowMs),
    // Map this process to the graphile-worker ids it runs under, for forceUnlockWorkers.
    onSlotCreated: (queueWorkerId) =>
      void recordQueueWorkerId(db, { id, logger, writeWindowMs }, queueWorkerId),
    onLiveChange: (live) => heartbeat.setLiveSlots(live),
    onFatal: options.onFatal,
  });
  try {
    await slots.start();
    await admitter?.start();
  } catch (error) {
    runLog.close();
    await admitter?.stop();
    await heartbeat.stop();
    throw error;
  }

  logger.info({ concurrency, types }, 'worker started');
  const shutdown = workerShutdown({ db, id, logger, inflight, graceSeconds, slots, heartbeat });
  const stop = async () => {
    try {
      await admitter?.stop();
      await shutdown();
    } finally {
      runLog.close();
      await changes.close();
    }
  };
  return { id, liveSlots: () => slots.live, stop };
}

/** Flow control (DESIGN §17): admits held runs, giving each its queue job. */
function flowAdmitter(options: WorkerOptions, logger: Logger): Admitter {
  const { db, runs, registry } = options;
  return new Admitter({
    db,
    runs,
    types: registry.list(),
    pools: registry.flowPools,
    pgPool: options.pgPool,
    logger,
    enqueue: async (trx, run) => {
      const operation = registry.get(run.type);
      if (!operation) throw new Error(`admitted a run of unknown type ${run.type}`);
      await enqueueRun(trx, {
        taskIdentifier: operation.taskIdentifier,
        runId: run.id,
        maxAttempts: operation.policy.retries + 1,
        priority: run.priority,
      });
    },
  });
}
