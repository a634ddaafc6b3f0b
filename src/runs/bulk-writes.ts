import { type Kysely, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import type { RunFailure } from '../domain/run.js';
import { cancelRequested } from './completions.js';
import { withEventsEach } from './run-events.js';

// A bulk cancel's statements (DESIGN §18): each a compare-and-set over many runs at once, with
// each run's events. A run that moved meanwhile (started, ended) is left as it is. Fleet parents
// are not here: their cancel cancels their children (`cancelFleet`).

type Executor = Kysely<Database>;

const CANCELLED: RunFailure = { code: 'run.cancelled', message: 'Cancelled before it started.' };

/** queued → completed `cancelled` for those of `ids` still queued. */
export async function cancelQueuedRuns(
  db: Executor,
  ids: readonly string[],
  by: { userId: string | null },
  now: Date,
): Promise<RunRow[]> {
  if (ids.length === 0) return [];
  const update = db
    .updateTable('operation_runs')
    .set({
      status: 'completed',
      outcome: 'cancelled',
      failures: sql<string>`failures || ${JSON.stringify([CANCELLED])}::jsonb`,
      worker_id: null,
      completed_at: now,
      updated_at: now,
    })
    .where('id', 'in', [...ids])
    .where('status', '=', 'queued')
    .where('fleet', '=', false)
    .returningAll();
  return await withEventsEach(db, update, {
    at: now,
    events: [cancelRequested(by), { kind: 'completed', payload: { outcome: 'cancelled' } }],
  });
}

/** A cancel request on those of `ids` that run and were not asked yet. */
export async function flagRunningRuns(
  db: Executor,
  ids: readonly string[],
  by: { userId: string | null },
  now: Date,
): Promise<RunRow[]> {
  if (ids.length === 0) return [];
  const update = db
    .updateTable('operation_runs')
    .set({ cancel_requested_at: now, updated_at: now })
    .where('id', 'in', [...ids])
    .where('status', '=', 'running')
    .where('fleet', '=', false)
    .where('cancel_requested_at', 'is', null)
    .returningAll();
  return await withEventsEach(db, update, { at: now, events: [cancelRequested(by)] });
}
