import type { Kysely } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { ACTIVE_STATUSES } from '../domain/run-classes.js';
import { deferNotify } from './run-events.js';

/**
 * A run's progress (also evidence of life), only while it is active. `deferNotify`: the caller
 * announces the change itself (a worker's coalesced reports, see RunChangePublisher).
 */
export async function writeProgress(
  db: Kysely<Database>,
  id: string,
  progress: { processed: number; total: number | null },
  now: Date,
  options: { deferNotify?: boolean } = {},
): Promise<RunRow | undefined> {
  return await db
    .updateTable('operation_runs')
    .set({
      progress_processed: progress.processed,
      progress_total: progress.total,
      last_heartbeat_at: now,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE_STATUSES)
    .$if(options.deferNotify === true, (qb) => qb.where(deferNotify))
    .returningAll()
    .executeTakeFirst();
}
