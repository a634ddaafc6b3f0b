import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { packageVersion } from '../version.js';
import { retryWhileUnavailable } from './retry-write.js';

// The worker process's own row in `workers`: what the reconciler reads to tell a live worker from
// a dead one, and what maps it to the graphile-worker ids whose job locks it may release.

/** A new worker process id: `host:pid:random`, stored in `operation_runs.worker_id` and `workers.id`. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Inserts this process's `workers` row: who it is, its release, the types it serves, its beat. */
export async function registerWorker(
  db: Kysely<Database>,
  worker: { id: string; concurrency: number; heartbeatMs: number; types: string[] },
): Promise<void> {
  const now = new Date();
  await db
    .insertInto('workers')
    .values({
      id: worker.id,
      host: hostname(),
      pid: process.pid,
      started_at: now,
      last_seen_at: now,
      concurrency: worker.concurrency,
      heartbeat_ms: worker.heartbeatMs,
      version: packageVersion(),
      types: worker.types,
    })
    .execute();
}

/**
 * Records a graphile-worker id this process runs under (one per runner it starts), for
 * `forceUnlockWorkers`. Retried while the database is away; a failure is logged, never thrown.
 */
export function recordQueueWorkerId(
  db: Kysely<Database>,
  worker: { id: string; logger: Logger; writeWindowMs: number },
  queueWorkerId: string,
): Promise<void> {
  return retryWhileUnavailable(
    () =>
      db
        .updateTable('workers')
        .set((eb) => ({
          queue_worker_ids: eb.fn('array_append', ['queue_worker_ids', eb.val(queueWorkerId)]),
        }))
        .where('id', '=', worker.id)
        .execute(),
    { until: Date.now() + worker.writeWindowMs, log: worker.logger, what: 'queue worker id' },
  ).then(
    () => undefined,
    (error: unknown) => worker.logger.error({ err: error }, 'could not record a queue worker id'),
  );
}

/** Marks this process's row stopped, with no live slots. */
export async function markWorkerStopped(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .updateTable('workers')
    .set({ stopped_at: new Date(), live_slots: 0 })
    .where('id', '=', id)
    .execute();
}
