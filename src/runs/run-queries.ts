import { type Kysely, sql, type UpdateObject } from 'kysely';
import type { Database, NewRunRow, RunRow } from '../db/schema.js';
import type { SummaryCounts } from '../domain/counts.js';
import { ACTIVE_STATUSES } from '../domain/run-classes.js';
import type { Completer } from './call-options.js';
import { type EventSpec, withEvents, withEventsEach } from './run-events.js';

// One statement per operation: creating or reusing a run, reading it back, and the writes that
// keep an active run's liveness, progress and counts (only while it is active). The status
// transitions are in run-transitions.ts, re-exported here so RunService reads one module.

export type { Appended, EventSpec, NoticeSpec } from './run-events.js';
export * from './run-transitions.js';

type Executor = Kysely<Database>;

/** Sets `values` on the run only while it is active: undefined when it is not (or not there). */
async function updateWhileActive(
  db: Executor,
  id: string,
  values: UpdateObject<Database, 'operation_runs'>,
  attempt?: number,
): Promise<RunRow | undefined> {
  return await db
    .updateTable('operation_runs')
    .set(values)
    .where('id', '=', id)
    .where('status', 'in', ACTIVE_STATUSES)
    // A handler's write belongs to its attempt: once that attempt ended, it changes nothing.
    .$if(attempt !== undefined, (update) =>
      update.where('status', '=', 'running').where('attempt', '=', attempt as number),
    )
    .returningAll()
    .executeTakeFirst();
}

export async function insertRunUnlessActive(
  db: Executor,
  row: NewRunRow,
  event: EventSpec,
): Promise<RunRow | undefined> {
  // No conflict target: the only unique index an insert with a fresh uuid v7 can hit is the
  // partial identity index, so "conflict" means "an active run with this identity exists".
  const insert = db
    .insertInto('operation_runs')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returningAll();
  return await withEvents(db, insert, {
    at: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    events: [event],
  });
}

/** `insertRunUnlessActive` for many rows: those inserted (the others have an active twin). */
export async function insertRunsUnlessActive(
  db: Executor,
  rows: NewRunRow[],
  at: Date,
  event: EventSpec,
): Promise<RunRow[]> {
  const insert = db
    .insertInto('operation_runs')
    .values(rows)
    .onConflict((oc) => oc.doNothing())
    .returningAll();
  return await withEventsEach(db, insert, { at, events: [event] });
}

/** The active runs with these identity hashes (each hash names one scope), each with `event`. */
export async function reuseActiveByHashes(
  db: Executor,
  workspaceId: string,
  hashes: readonly string[],
  at: Date,
  event: EventSpec,
): Promise<RunRow[]> {
  const query = db
    .selectFrom('operation_runs')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('identity_hash', 'in', [...hashes])
    .where('status', 'in', ACTIVE_STATUSES);
  return await withEventsEach(db, query, { at, events: [event] });
}

export async function reuseActiveByIdentity(
  db: Executor,
  key: { workspaceId: string; tenantId: string | null; type: string; identityHash: string },
  at: Date,
  event: EventSpec,
): Promise<RunRow | undefined> {
  let query = db
    .selectFrom('operation_runs')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('type', '=', key.type)
    .where('identity_hash', '=', key.identityHash)
    .where('status', 'in', ACTIVE_STATUSES);
  query =
    key.tenantId === null
      ? query.where('tenant_id', 'is', null)
      : query.where('tenant_id', '=', key.tenantId);
  return await withEvents(db, query, { at, events: [event] });
}

export async function findRun(db: Executor, id: string): Promise<RunRow | undefined> {
  return await db.selectFrom('operation_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Whether the run's `completed` event names this completer (a worker's attempt of a job). */
export async function completedBy(db: Executor, id: string, by: Completer): Promise<boolean> {
  const event = await db
    .selectFrom('run_events')
    .select('run_id')
    .where('run_id', '=', id)
    .where('kind', '=', 'completed')
    .where(sql<boolean>`payload @> ${JSON.stringify(by)}::jsonb`)
    .executeTakeFirst();
  return event !== undefined;
}

export async function touchHeartbeat(
  db: Executor,
  id: string,
  now: Date,
): Promise<RunRow | undefined> {
  return await updateWhileActive(db, id, { last_heartbeat_at: now, updated_at: now });
}

/**
 * One statement per worker process per interval: the runs it is executing right now (its in-flight
 * set, never every row that names it) are alive. Returns them with whether a cancel was requested,
 * so the worker can abort them.
 */
export async function touchWorkerHeartbeats(
  db: Executor,
  workerId: string,
  runIds: readonly string[],
  now: Date,
): Promise<Array<{ id: string; cancelRequested: boolean }>> {
  if (runIds.length === 0) return [];
  // A run another statement holds (a shared completion or progress report of this worker, which
  // writes its heartbeat too) is skipped, not waited for: two statements locking several runs
  // each in their own order could otherwise deadlock. Its cancel flag is read at the next beat.
  const rows = await db
    .updateTable('operation_runs')
    .set({ last_heartbeat_at: now })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('operation_runs')
        .select('id')
        .where('id', 'in', runIds)
        .where('worker_id', '=', workerId)
        .where('status', '=', 'running')
        .forNoKeyUpdate()
        .skipLocked(),
    )
    .returning(['id', 'cancel_requested_at'])
    .execute();
  return rows.map((r) => ({ id: r.id, cancelRequested: r.cancel_requested_at !== null }));
}

/** Adds to existing counts in one statement (no read-modify-write race between two writers). */
export async function incrementCounts(
  db: Executor,
  id: string,
  counts: SummaryCounts,
  now: Date,
  attempt?: number,
): Promise<RunRow | undefined> {
  return await updateWhileActive(
    db,
    id,
    {
      summary_counts: sql<string>`(
      select coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
      from (
        select key, sum(value::numeric) as total
        from (
          select key, value from jsonb_each_text(operation_runs.summary_counts)
          union all
          select key, value from jsonb_each_text(${JSON.stringify(counts)}::jsonb)
        ) merged
        group by key
      ) summed)`,
      updated_at: now,
    },
    attempt,
  );
}

/**
 * A `reconcile_only` type's handler returned: its result is evidence on the timeline of the
 * still-active run, never its terminal state (only the reconciler or the type's adapter ends it).
 */
export async function insertHandlerResult(
  db: Executor,
  id: string,
  payload: Record<string, unknown>,
  now: Date,
): Promise<boolean> {
  const inserted = await db
    .insertInto('run_events')
    .columns(['run_id', 'kind', 'at', 'payload'])
    .expression((eb) =>
      eb
        .selectFrom('operation_runs')
        .select([
          'id',
          sql.lit('handler_returned').as('kind'),
          sql<Date>`${now.toISOString()}::timestamptz`.as('at'),
          sql<string>`${JSON.stringify(payload)}::jsonb || jsonb_build_object('attempt', attempt)`.as(
            'payload',
          ),
        ])
        .where('id', '=', id)
        .where('status', 'in', ACTIVE_STATUSES),
    )
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** A result that arrived after the run was already terminal: kept for diagnostics, never applied. */
export async function insertLateCompletion(
  db: Executor,
  id: string,
  payload: Record<string, unknown>,
  now: Date,
): Promise<void> {
  await db
    .insertInto('run_events')
    .values({ run_id: id, kind: 'late_completion', at: now, payload: JSON.stringify(payload) })
    .execute();
}
