import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  parseCronItems,
  type Runner,
  run as runQueue,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { prune } from '../lifecycle/retention.js';
import type { RunService } from '../runs/run-service.js';
import { graphileLogger } from './graphile-logger.js';
import { startHeartbeat } from './heartbeat.js';
import { isJobPayload } from './queue.js';
import type { OperationRegistry } from './registry.js';
import {
  SCHEDULE_TASK,
  type ScheduleDefinition,
  scheduleCronItems,
  scheduleTask,
} from './schedules.js';
import { type StopReason, wrapOperation } from './wrapper.js';

const PRUNE_TASK = 'runwarden:prune';

export interface WorkerOptions {
  db: Kysely<Database>;
  /** graphile-worker takes a pg.Pool of its own (one LISTEN connection plus one per job). */
  pgPool: pg.Pool;
  /** The heartbeat thread opens its own connection with this URL. */
  databaseUrl: string;
  runs: RunService;
  registry: OperationRegistry;
  logger: Logger;
  /** Jobs this process runs at once (default 4). */
  concurrency?: number;
  /** How long in-flight handlers get to finish on shutdown before they are handed back (default 25). */
  shutdownGraceSeconds?: number;
  /** How often to poll for retries scheduled in the future, ms (new jobs arrive by LISTEN/NOTIFY). */
  pollIntervalMs?: number;
  /** Cron schedules this worker fires (every worker may carry them; each tick fires once). */
  schedules?: ScheduleDefinition[];
  /** Prune terminal runs older than this many days, daily at 03:15 UTC (DESIGN §9). Unset: no pruning. */
  retentionDays?: number;
}

export interface WorkerHandle {
  /** This process's id, stored in `operation_runs.worker_id` and `workers.id`. */
  id: string;
  runner: Runner;
  /** Stop fetching, give in-flight handlers the grace period, hand back the rest, then resolve. */
  stop(): Promise<void>;
}

/** Starts a Runwarden worker: graphile-worker running every queue operation through the wrapper. */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { db, runs, registry } = options;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = options.logger.child({ workerId: id });
  const inflight = new Map<string, AbortController>();
  const grace = options.shutdownGraceSeconds ?? 25;

  const taskList: TaskList = {};
  for (const operation of registry.queueOperations()) {
    taskList[operation.taskIdentifier] = wrapOperation(operation, {
      db,
      runs,
      logger,
      workerId: id,
      inflight,
    });
  }

  const schedules = options.schedules ?? [];
  const parsedCronItems = scheduleCronItems(schedules, registry);
  taskList[SCHEDULE_TASK] = scheduleTask({ db, runs, registry, logger }, schedules);
  if (options.retentionDays) {
    const retentionDays = options.retentionDays;
    parsedCronItems.push(
      ...parseCronItems([{ task: PRUNE_TASK, match: '15 3 * * *', identifier: 'runwarden-prune' }]),
    );
    taskList[PRUNE_TASK] = async () => {
      const report = await prune(db, { retentionDays });
      logger.info(
        { deleted: report.deleted, cutoff: report.cutoff, ran: report.ran },
        'daily retention prune',
      );
    };
  }

  const now = new Date();
  await db
    .insertInto('workers')
    .values({ id, host: hostname(), pid: process.pid, started_at: now, last_seen_at: now })
    .execute();

  // Listeners go on before the runner starts: it creates its workers before `run` resolves.
  const events: WorkerEvents = new EventEmitter();
  const runnerPromise = () =>
    runQueue({
      events,
      pgPool: options.pgPool,
      concurrency: options.concurrency ?? 4,
      taskList,
      parsedCronItems,
      noHandleSignals: true,
      pollInterval: options.pollIntervalMs ?? 1_000,
      logger: graphileLogger(logger),
      // Our wrapper aborts handlers itself after the grace period; graphile's own abort comes later.
      gracefulShutdownAbortTimeout: (grace + 10) * 1000,
    });

  // Map this process to the graphile-worker ids it runs under, for forceUnlockWorkers.
  events.on('worker:create', ({ worker }) => {
    void db
      .updateTable('workers')
      .set((eb) => ({
        queue_worker_ids: eb.fn('array_append', ['queue_worker_ids', eb.val(worker.workerId)]),
      }))
      .where('id', '=', id)
      .execute()
      .catch((error: unknown) =>
        logger.error({ err: error }, 'could not record a queue worker id'),
      );
  });

  // Failed-job bridge (DESIGN §7.3): a job the queue gave up on without the wrapper finishing.
  events.on('job:failed', ({ job, error }) => {
    if (!isJobPayload(job.payload)) {
      // Schedule ticks and pruning carry no run; a run task whose payload names none is a bug.
      logger.error(
        { jobId: job.id, task: job.task_identifier, err: error },
        'a queue job failed permanently',
      );
      return;
    }
    const runId = job.payload.runId;
    void runs
      .complete(runId, {
        outcome: 'failed',
        failures: [
          {
            code: 'queue.attempts_exhausted',
            message: `The queue gave up after ${job.attempts} of ${job.max_attempts} attempts.`,
          },
        ],
      })
      .then((result) => {
        if (result.moved)
          logger.warn({ runId, err: error }, 'queue gave up on the job; run marked failed');
      })
      .catch((e: unknown) =>
        logger.error({ err: e, runId }, 'failed-job bridge could not update the run'),
      );
  });

  const runner = await runnerPromise();

  const heartbeatMs =
    Math.min(...registry.queueOperations().map((op) => op.policy.heartbeatSeconds), 5) * 1000;
  const heartbeat = startHeartbeat(
    { databaseUrl: options.databaseUrl, workerId: id, intervalMs: heartbeatMs },
    logger,
    (runIds) => {
      for (const runId of runIds) inflight.get(runId)?.abort('cancel' satisfies StopReason);
    },
  );

  logger.info(
    {
      concurrency: options.concurrency ?? 4,
      types: registry.queueOperations().map((op) => op.type),
    },
    'worker started',
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ inflight: inflight.size, graceSeconds: grace }, 'worker stopping: no new jobs');
      const graceTimer = setTimeout(() => {
        for (const controller of inflight.values())
          controller.abort('shutdown' satisfies StopReason);
      }, grace * 1000);
      try {
        await runner.stop();
      } finally {
        clearTimeout(graceTimer);
        await heartbeat.stop();
        await db
          .updateTable('workers')
          .set({ stopped_at: new Date() })
          .where('id', '=', id)
          .execute();
        logger.info('worker stopped');
      }
    })();
    return stopping;
  };

  return { id, runner, stop };
}
