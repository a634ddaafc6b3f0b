import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Job, parseCronItems, run as runQueue, type TaskList } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { prune } from '../lifecycle/retention.js';
import type { RunService } from '../runs/run-service.js';
import { graphileLogger } from './graphile-logger.js';
import { startHeartbeat } from './heartbeat.js';
import { isJobPayload, unlockWorkers } from './queue.js';
import { SlotKeeper } from './queue-slots.js';
import type { OperationRegistry } from './registry.js';
import { retryWhileUnavailable } from './retry-write.js';
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
  /**
   * Called when the queue's job slots died and cannot be restored although the database answers.
   * Default: log it and exit the process with status 1, so a supervisor restarts it.
   */
  onFatal?: (error: unknown) => void;
}

export interface WorkerHandle {
  /** This process's id, stored in `operation_runs.worker_id` and `workers.id`. */
  id: string;
  /** Job slots alive right now (equal to the concurrency except while the database is away). */
  liveSlots(): number;
  /** Stop fetching, give in-flight handlers the grace period, hand back the rest, then resolve. */
  stop(): Promise<void>;
}

/** The in-flight set: every change goes to the heartbeat thread, which refreshes only these runs. */
class InflightRuns extends Map<string, AbortController> {
  onChange: (runIds: string[]) => void = () => undefined;
  override set(runId: string, controller: AbortController): this {
    super.set(runId, controller);
    this.onChange([...this.keys()]);
    return this;
  }
  override delete(runId: string): boolean {
    const had = super.delete(runId);
    this.onChange([...this.keys()]);
    return had;
  }
}

/** Starts a Runwarden worker: graphile-worker running every queue operation through the wrapper. */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const { db, runs, registry } = options;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = options.logger.child({ workerId: id });
  const inflight = new InflightRuns();
  const grace = options.shutdownGraceSeconds ?? 25;
  const concurrency = options.concurrency ?? 4;
  const policies = registry.queueOperations().map((op) => op.policy);
  // Results are retried while the database is away for as long as the reconciler would wait.
  const writeWindowMs = Math.max(60, ...policies.map((p) => p.runningStaleAfterSeconds)) * 1000;

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
    .values({
      id,
      host: hostname(),
      pid: process.pid,
      started_at: now,
      last_seen_at: now,
      concurrency,
    })
    .execute();

  const heartbeatMs = Math.min(...policies.map((p) => p.heartbeatSeconds), 5) * 1000;
  const heartbeat = startHeartbeat(
    { databaseUrl: options.databaseUrl, workerId: id, intervalMs: heartbeatMs },
    logger,
    (runIds) => {
      for (const runId of runIds) inflight.get(runId)?.abort('cancel' satisfies StopReason);
    },
  );
  inflight.onChange = (runIds) => heartbeat.setInflight(runIds);

  // Map this process to the graphile-worker ids it runs under, for forceUnlockWorkers.
  const recordQueueWorkerId = (queueWorkerId: string) =>
    retryWhileUnavailable(
      () =>
        db
          .updateTable('workers')
          .set((eb) => ({
            queue_worker_ids: eb.fn('array_append', ['queue_worker_ids', eb.val(queueWorkerId)]),
          }))
          .where('id', '=', id)
          .execute(),
      { until: Date.now() + writeWindowMs, log: logger, what: 'queue worker id' },
    ).catch((error: unknown) => logger.error({ err: error }, 'could not record a queue worker id'));

  const bridge = failedJobBridge(runs, logger, writeWindowMs);
  const slots = new SlotKeeper({
    concurrency,
    logger,
    startRunner: (slotCount, events, withCron) => {
      events.on('job:failed', bridge);
      return runQueue({
        events,
        pgPool: options.pgPool,
        concurrency: slotCount,
        taskList,
        parsedCronItems: withCron ? parsedCronItems : [],
        noHandleSignals: true,
        pollInterval: options.pollIntervalMs ?? 1_000,
        logger: graphileLogger(logger),
        // Our wrapper aborts handlers itself after the grace period; graphile's own abort comes later.
        gracefulShutdownAbortTimeout: (grace + 10) * 1000,
      });
    },
    probe: async () => {
      await sql`select 1`.execute(db);
    },
    unlock: (queueWorkerIds) => unlockWorkers(db, queueWorkerIds),
    onSlotCreated: (queueWorkerId) => void recordQueueWorkerId(queueWorkerId),
    onLiveChange: (live) => heartbeat.setLiveSlots(live),
    onFatal:
      options.onFatal ??
      ((error) => {
        logger.fatal(
          { err: error },
          'the queue job slots cannot be restored: exiting so a supervisor restarts this worker',
        );
        process.exit(1);
      }),
  });
  try {
    await slots.start();
  } catch (error) {
    await heartbeat.stop();
    throw error;
  }

  logger.info(
    { concurrency, types: registry.queueOperations().map((op) => op.type) },
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
        await slots.stop();
      } finally {
        clearTimeout(graceTimer);
        await heartbeat.stop();
        await db
          .updateTable('workers')
          .set({ stopped_at: new Date(), live_slots: 0 })
          .where('id', '=', id)
          .execute();
        logger.info('worker stopped');
      }
    })();
    return stopping;
  };

  return { id, liveSlots: () => slots.live, stop };
}

/**
 * Failed-job bridge (DESIGN §7.3): a job the queue gave up on without the wrapper finishing. Its
 * write is retried while the database is away, like every result.
 */
function failedJobBridge(runs: RunService, logger: Logger, writeWindowMs: number) {
  return ({ job, error }: { job: Job; error: unknown }) => {
    if (!isJobPayload(job.payload)) {
      // Schedule ticks and pruning carry no run; a run task whose payload names none is a bug.
      logger.error(
        { jobId: job.id, task: job.task_identifier, err: error },
        'a queue job failed permanently',
      );
      return;
    }
    const runId = job.payload.runId;
    void retryWhileUnavailable(
      () =>
        runs.complete(runId, {
          outcome: 'failed',
          failures: [
            {
              code: 'queue.attempts_exhausted',
              message: `The queue gave up after ${job.attempts} of ${job.max_attempts} attempts.`,
            },
          ],
        }),
      {
        until: Date.now() + writeWindowMs,
        log: logger.child({ runId }),
        what: 'failed-job bridge',
      },
    )
      .then((result) => {
        if (result.moved)
          logger.warn({ runId, err: error }, 'queue gave up on the job; run marked failed');
      })
      .catch((e: unknown) =>
        logger.error({ err: e, runId }, 'failed-job bridge could not update the run'),
      );
  };
}
