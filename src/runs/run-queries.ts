import { type Compilable, type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, NewRunRow, RunRow } from '../db/schema.js';
import type { SummaryCounts } from '../domain/counts.js';
import type { Reconciliation, RunEventKind, RunFailure, RunOutcome } from '../domain/run.js';

// One statement per operation. Every transition names the states it expects in its `where`;
// an empty result means someone else moved the run first, and the service re-reads it.
// A transition and its `run_events` row are one statement (a data-modifying CTE): atomic
// without a transaction of its own, and one round trip on the hot path.

type Executor = Kysely<Database>;

const ACTIVE = ['queued', 'running'] as const;

const jsonb = (value: unknown) => sql<never>`${JSON.stringify(value)}::jsonb`;

export interface EventSpec {
  kind: RunEventKind;
  /** A JSON value, or SQL over the moved row's columns (e.g. `jsonb_build_object('attempt', attempt)`). */
  payload?: Record<string, unknown> | RawBuilder<unknown>;
}

/** A notification for the run's initiator, written with the transition that made the run terminal. */
export interface NoticeSpec {
  /** The title is `<run type>: <label>`. */
  label: string;
  body: string;
}

/** What a transition appends to the row it moved, all stamped `at`. */
export interface Appended {
  at: Date;
  events: EventSpec[];
  /** Only with a terminal transition: the initiator's notification (none for system runs). */
  notice?: NoticeSpec;
}

/** Runs `mutation` (returning the run row) and appends `events` (and `notice`) for the row it returns. */
async function withEvents(
  db: Executor,
  mutation: Compilable<unknown>,
  { at, events, notice }: Appended,
): Promise<RunRow | undefined> {
  const payloadOf = (e: EventSpec) =>
    e.payload === undefined ? sql`'{}'::jsonb` : isRaw(e.payload) ? e.payload : jsonb(e.payload);
  const rows = sql.join(
    events.map(
      (e) =>
        sql`select moved.id, ${sql.lit(e.kind)}::text, ${at.toISOString()}::timestamptz, ${payloadOf(e)} from moved`,
    ),
    sql` union all `,
  );
  const result = await sql<RunRow>`
    with moved as (${mutation}),
    event as (insert into run_events (run_id, kind, at, payload) ${rows})${
      notice
        ? sql`,
    notice as (
      insert into notifications (id, user_id, run_id, title, body, link, created_at)
      select gen_random_uuid(), moved.initiator_user_id, moved.id, moved.type || ': ' || ${notice.label}::text, ${notice.body}::text,
             '/admin/operations/' || moved.id, ${at.toISOString()}::timestamptz
      from moved where moved.initiator_user_id is not null)`
        : sql``
    }
    select * from moved`.execute(db);
  return result.rows[0];
}

function isRaw(value: unknown): value is RawBuilder<unknown> {
  return typeof value === 'object' && value !== null && 'toOperationNode' in value;
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
    .where('status', 'in', ACTIVE);
  query =
    key.tenantId === null
      ? query.where('tenant_id', 'is', null)
      : query.where('tenant_id', '=', key.tenantId);
  return await withEvents(db, query, { at, events: [event] });
}

export async function findRun(db: Executor, id: string): Promise<RunRow | undefined> {
  return await db.selectFrom('operation_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function markRunning(
  db: Executor,
  id: string,
  worker: { workerId: string; queueJobId?: string | null },
  now: Date,
): Promise<RunRow | undefined> {
  const update = db
    .updateTable('operation_runs')
    .set((eb) => ({
      status: 'running',
      attempt: eb('attempt', '+', 1),
      worker_id: worker.workerId,
      queue_job_id: worker.queueJobId ?? null,
      started_at: eb.fn.coalesce('started_at', eb.val(now)),
      last_heartbeat_at: now,
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .where('cancel_requested_at', 'is', null)
    .returningAll();
  return await withEvents(db, update, {
    at: now,
    events: [
      {
        kind: 'running',
        payload: sql`jsonb_build_object('attempt', attempt, 'workerId', worker_id)`,
      },
    ],
  });
}

export async function touchHeartbeat(
  db: Executor,
  id: string,
  now: Date,
): Promise<RunRow | undefined> {
  return await db
    .updateTable('operation_runs')
    .set({ last_heartbeat_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE)
    .returningAll()
    .executeTakeFirst();
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
  const rows = await db
    .updateTable('operation_runs')
    .set({ last_heartbeat_at: now })
    .where('id', 'in', runIds)
    .where('worker_id', '=', workerId)
    .where('status', '=', 'running')
    .returning(['id', 'cancel_requested_at'])
    .execute();
  return rows.map((r) => ({ id: r.id, cancelRequested: r.cancel_requested_at !== null }));
}

export async function setProgress(
  db: Executor,
  id: string,
  progress: { processed: number; total: number | null },
  now: Date,
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
    .where('status', 'in', ACTIVE)
    .returningAll()
    .executeTakeFirst();
}

/** Adds to existing counts in one statement (no read-modify-write race between two writers). */
export async function incrementCounts(
  db: Executor,
  id: string,
  counts: SummaryCounts,
  now: Date,
): Promise<RunRow | undefined> {
  return await db
    .updateTable('operation_runs')
    .set({
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
    })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE)
    .returningAll()
    .executeTakeFirst();
}

/** running → queued for another attempt; a failure is kept, a hand-back (shutdown) keeps none. */
export async function requeue(
  db: Executor,
  id: string,
  why: { failure: RunFailure } | { reason: string },
  now: Date,
): Promise<RunRow | undefined> {
  const failures = 'failure' in why ? [why.failure] : [];
  const detail = 'failure' in why ? { code: why.failure.code } : { reason: why.reason };
  const update = db
    .updateTable('operation_runs')
    .set({
      status: 'queued',
      worker_id: null,
      failures: sql<string>`failures || ${jsonb(failures)}`,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returningAll();
  return await withEvents(db, update, {
    at: now,
    events: [
      {
        kind: 'attempt_failed',
        payload: sql`jsonb_build_object('attempt', attempt) || ${jsonb(detail)}`,
      },
    ],
  });
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

export interface CompletionFields {
  outcome: Exclude<RunOutcome, 'pending'>;
  counts: SummaryCounts;
  failures: RunFailure[];
  /** Reconciliation metadata; `lastHeartbeatAt` is filled from the row as it was. */
  reconciliation?: Omit<Reconciliation, 'lastHeartbeatAt'>;
}

export interface CompletionGuard {
  /** Only when the run is in this state (default: any active state). */
  status?: 'queued' | 'running';
  /** Only when no heartbeat arrived after this instant (the reconciler's evidence still holds). */
  noHeartbeatAfter?: Date | null;
}

export interface Completion extends Appended {
  id: string;
  fields: CompletionFields;
  /** Default: only from an active state, whatever its heartbeat. */
  guard?: CompletionGuard;
}

/** active → completed, with its events and the initiator's notice, as one statement. */
export async function completeRun(
  db: Executor,
  { id, fields, at, events, guard = {}, notice }: Completion,
): Promise<RunRow | undefined> {
  let update = db
    .updateTable('operation_runs')
    .set({
      status: 'completed',
      outcome: fields.outcome,
      summary_counts: sql<string>`summary_counts || ${jsonb(fields.counts)}`,
      failures: sql<string>`failures || ${jsonb(fields.failures)}`,
      reconciliation: fields.reconciliation
        ? sql<string>`${jsonb(fields.reconciliation)} || jsonb_build_object('lastHeartbeatAt',
            to_char(last_heartbeat_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`
        : null,
      worker_id: null,
      completed_at: at,
      updated_at: at,
    })
    .where('id', '=', id)
    .where('status', 'in', guard.status ? [guard.status] : ACTIVE);
  if (guard.noHeartbeatAfter !== undefined) {
    const after = guard.noHeartbeatAfter;
    update =
      after === null
        ? update.where('last_heartbeat_at', 'is', null)
        : // The evidence is a JS Date (milliseconds); the column keeps microseconds: compare within the ms.
          update.where((eb) =>
            eb.or([
              eb('last_heartbeat_at', 'is', null),
              eb('last_heartbeat_at', '<', new Date(after.getTime() + 1)),
            ]),
          );
  }
  return await withEvents(db, update.returningAll(), { at, events, notice });
}

export async function flagCancelRequested(
  db: Executor,
  id: string,
  now: Date,
  event: EventSpec,
): Promise<RunRow | undefined> {
  const update = db
    .updateTable('operation_runs')
    .set({ cancel_requested_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('cancel_requested_at', 'is', null)
    .returningAll();
  return await withEvents(db, update, { at: now, events: [event] });
}

export async function markReviewed(
  db: Executor,
  id: string,
  userId: string,
  now: Date,
): Promise<RunRow | undefined> {
  const update = db
    .updateTable('operation_runs')
    .set({ reviewed_at: now, reviewed_by: userId, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'completed')
    .where('reviewed_at', 'is', null)
    .returningAll();
  return await withEvents(db, update, {
    at: now,
    events: [{ kind: 'reviewed', payload: { userId } }],
  });
}
