import { type Kysely, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import { type Database, RUN_COLUMNS, type RunRow } from '../db/schema.js';
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
  // Prepared (planned once per connection): a handler may report many times a second.
  const update = db
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
    .returning(RUN_COLUMNS);
  const result = await prepared(sql<RunRow>`${update}`).execute(db);
  return result.rows[0];
}
