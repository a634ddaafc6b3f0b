import { type Job, type ParsedCronItem, run as runQueue, type TaskList } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { graphileLogger } from './graphile-logger.js';
import { unlockWorkers } from './queue.js';
import { guardQueueListener } from './queue-listener.js';
import { SlotKeeper } from './queue-slots.js';

export interface QueueSlotsOptions {
  db: Kysely<Database>;
  pgPool: pg.Pool;
  tasks: { taskList: TaskList; cronItems: ParsedCronItem[] };
  concurrency: number;
  /** Seconds our wrapper gives in-flight handlers on shutdown; graphile's own abort comes later. */
  graceSeconds: number;
  pollIntervalMs: number;
  logger: Logger;
  /** A job the queue gave up on (graphile-worker's `job:failed`). */
  onJobFailed: (event: { job: Job; error: unknown }) => void;
  onSlotCreated: (queueWorkerId: string) => void;
  onLiveChange: (live: number) => void;
  onFatal?: (error: unknown) => void;
}

/**
 * The graphile-worker runners of a worker process, kept at full concurrency by a SlotKeeper:
 * `start()` starts them (throws if the first cannot start), `stop()` stops them gracefully.
 */
export function queueSlots(options: QueueSlotsOptions): SlotKeeper {
  const { db, logger } = options;
  const stopping = new AbortController();
  const pgPool = guardQueueListener(options.pgPool, { logger, signal: stopping.signal });
  return new SlotKeeper({
    concurrency: options.concurrency,
    logger,
    // Slots that fetch nothing but errors for five polls although the database answers are stuck.
    stuckAfterMs: Math.max(5 * options.pollIntervalMs, 5_000),
    startRunner: (slotCount, events, withCron) => {
      events.on('job:failed', options.onJobFailed);
      return runQueue({
        events,
        pgPool,
        concurrency: slotCount,
        taskList: options.tasks.taskList,
        parsedCronItems: withCron ? options.tasks.cronItems : [],
        noHandleSignals: true,
        pollInterval: options.pollIntervalMs,
        logger: graphileLogger(logger),
        // Our wrapper aborts handlers itself after the grace period; graphile's own abort comes later.
        gracefulShutdownAbortTimeout: (options.graceSeconds + 10) * 1000,
      });
    },
    probe: async () => {
      await sql`select 1`.execute(db);
    },
    unlock: (queueWorkerIds) => unlockWorkers(db, queueWorkerIds),
    onSlotCreated: options.onSlotCreated,
    onLiveChange: options.onLiveChange,
    onFatal: options.onFatal ?? exitForSupervisor(logger),
    onStop: () => stopping.abort(),
  });
}

/** The default when the slots cannot be restored: log it and exit 1, so a supervisor restarts us. */
function exitForSupervisor(logger: Logger) {
  return (error: unknown) => {
    logger.fatal(
      { err: error },
      'the queue job slots cannot be restored: exiting so a supervisor restarts this worker',
    );
    process.exit(1);
  };
}
