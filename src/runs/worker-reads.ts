import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, WorkersTable } from '../db/schema.js';

export interface WorkerRunning {
  /** Runs this worker is executing now (`status = 'running'`, its `worker_id`). */
  count: number;
  /** The first of them by start, up to the cap. */
  runs: Array<{ id: string; type: string }>;
}

export type WorkerWithRuns = Selectable<WorkersTable> & { running: WorkerRunning };

export interface WorkerListQuery {
  /** Stopped workers are listed while they stopped after this instant. */
  stoppedSince: Date;
  /** Running runs named per worker (the count covers them all). */
  runsPerWorker: number;
  /** Workers listed at most. */
  limit: number;
}

/**
 * The system plane's workers (DESIGN §18): every one not stopped, and those stopped since
 * `stoppedSince`, newest first, each with the runs it is executing. The running runs come from the
 * partial index of active runs, so their cost follows the active set, not history.
 */
export async function listWorkers(
  db: Kysely<Database>,
  query: WorkerListQuery,
): Promise<WorkerWithRuns[]> {
  const workers = await db
    .selectFrom('workers')
    .selectAll()
    .where((eb) => eb.or([eb('stopped_at', 'is', null), eb('stopped_at', '>', query.stoppedSince)]))
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .execute();
  if (workers.length === 0) return [];
  const { rows } = await sql<{ worker_id: string; id: string; type: string; total: number }>`
    select worker_id, id, type, total from (
      select worker_id, id, type,
        count(*) over (partition by worker_id)::int as total,
        row_number() over (partition by worker_id order by started_at, id) as n
      from operation_runs
      where status = 'running' and worker_id = any(${workers.map((w) => w.id)}::text[])
    ) as running
    where n <= ${query.runsPerWorker}
    order by worker_id, n`.execute(db);
  const running = new Map<string, WorkerRunning>();
  for (const row of rows) {
    const entry = running.get(row.worker_id) ?? { count: row.total, runs: [] };
    entry.runs.push({ id: row.id, type: row.type });
    running.set(row.worker_id, entry);
  }
  return workers.map((w) => ({ ...w, running: running.get(w.id) ?? { count: 0, runs: [] } }));
}
