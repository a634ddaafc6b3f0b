import { type Kysely, type RawBuilder, sql, type UpdateObject } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import type { SummaryCounts } from '../domain/counts.js';
import type { Reconciliation, RunFailure, RunOutcome } from '../domain/run.js';
import { ACTIVE_STATUSES } from '../domain/run-classes.js';
import {
  type Appended,
  deferNotify,
  type EventSpec,
  jsonb,
  withEvents,
  withEventsEach,
} from './run-events.js';

// The transitions of a run's status (and its review), one compare-and-set statement each: the
// `where` names the states it expects, and an empty result means someone else moved the run
// first (the service re-reads it). Each writes its events (and notice) in the same statement.

type Executor = Kysely<Database>;

export async function markRunning(
  db: Executor,
  id: string,
  worker: { workerId: string; queueJobId?: string | null },
  now: Date,
  options: { deferNotify?: boolean; onlyIf?: RawBuilder<boolean> } = {},
): Promise<RunRow | undefined> {
  const { onlyIf } = options;
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
    .$if(onlyIf !== undefined, (qb) => qb.where(onlyIf as RawBuilder<boolean>))
    // A durable commit, as every transition: a start lost in a crash would leave a handler running
    // under a run that reads `queued` (test/faults/start-crash.test.ts).
    .$if(options.deferNotify === true, (qb) => qb.where(deferNotify))
    .returningAll();
  return await withEvents(db, update, { at: now, events: [RUNNING_EVENT] });
}

/** The event of queued → running, over the moved row (one run or several). */
export const RUNNING_EVENT: EventSpec = {
  kind: 'running',
  payload: sql`jsonb_build_object('attempt', attempt, 'workerId', worker_id)`,
};

/**
 * running → queued for another attempt. A failed attempt keeps its failure (`attempt_failed`); a
 * hand-back (worker shutdown) keeps none and says why (`handed_back`). Either way the next
 * attempt's progress and counts start fresh: the previous attempt's counter is never shown as
 * live, and a run's counts are its last attempt's, not every attempt's added up. The attempt's
 * counts stay on its event, read from the row locked as it was before this statement changed it.
 */
export async function requeue(
  db: Executor,
  id: string,
  why: { failure: RunFailure } | { reason: string; message: string },
  now: Date,
): Promise<RunRow | undefined> {
  const failed = 'failure' in why;
  const failures = failed ? [why.failure] : [];
  const detail = failed ? { code: why.failure.code } : { reason: why.reason, message: why.message };
  const update = db
    .updateTable('operation_runs')
    .from((eb) =>
      eb
        .selectFrom('operation_runs as ended')
        .select(['ended.id as ended_id', 'ended.summary_counts as attempt_counts'])
        .where('ended.id', '=', id)
        .forUpdate()
        .as('ended'),
    )
    .set({
      status: 'queued',
      worker_id: null,
      progress_processed: null,
      progress_total: null,
      summary_counts: sql<string>`'{}'::jsonb`,
      failures: sql<string>`operation_runs.failures || ${jsonb(failures)}`,
      updated_at: now,
    })
    .whereRef('operation_runs.id', '=', 'ended.ended_id')
    .where('operation_runs.status', '=', 'running')
    .returningAll('operation_runs')
    .returning('ended.attempt_counts');
  return await withEvents(db, update, {
    at: now,
    events: [
      {
        kind: failed ? 'attempt_failed' : 'handed_back',
        payload: sql`jsonb_build_object('attempt', attempt, 'counts', attempt_counts) || ${jsonb(detail)}`,
      },
    ],
  });
}

export interface CompletionFields {
  outcome: Exclude<RunOutcome, 'pending'>;
  counts: SummaryCounts;
  failures: RunFailure[];
  /** Reconciliation metadata; `lastHeartbeatAt` is filled from the row as it was. */
  reconciliation?: Omit<Reconciliation, 'lastHeartbeatAt'>;
  /** The handler's last progress report, not yet written: written with the completion. */
  progress?: { processed: number; total: number | null };
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
  /** The caller announces the change itself (see `deferNotify`). */
  deferNotify?: boolean;
  /** The queue's job the attempt ran as: `moved.finished_job_id` for `sameCommit`. */
  jobId?: string | null;
}

/** active → completed, with its events and the initiator's notice, as one statement. */
export async function completeRun(
  db: Executor,
  { id, fields, at, events, guard = {}, notice, deferNotify: defer, sameCommit, jobId }: Completion,
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
      ...(fields.progress
        ? { progress_processed: fields.progress.processed, progress_total: fields.progress.total }
        : {}),
      worker_id: null,
      completed_at: at,
      updated_at: at,
    })
    .where('id', '=', id)
    .where('status', 'in', guard.status ? [guard.status] : ACTIVE_STATUSES)
    .$if(defer === true, (qb) => qb.where(deferNotify));
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
  const returning = update
    .returningAll()
    .returning(sql<string | null>`${jobId ?? null}::bigint`.as('finished_job_id'));
  return await withEvents(db, returning, { at, events, notice, sameCommit });
}

/**
 * Sets a one-time stamp (still null) on a run in `status`, with its event: a second request
 * moves nothing.
 */
async function stampOnce(
  db: Executor,
  id: string,
  status: 'running' | 'completed',
  stamp: 'cancel_requested_at' | 'reviewed_at',
  values: UpdateObject<Database, 'operation_runs'>,
  { at, event }: { at: Date; event: EventSpec },
): Promise<RunRow | undefined> {
  const update = db
    .updateTable('operation_runs')
    .set(values)
    .where('id', '=', id)
    .where('status', '=', status)
    .where(stamp, 'is', null)
    .returningAll();
  return await withEvents(db, update, { at, events: [event] });
}

export async function flagCancelRequested(
  db: Executor,
  id: string,
  now: Date,
  event: EventSpec,
): Promise<RunRow | undefined> {
  const values = { cancel_requested_at: now, updated_at: now };
  return await stampOnce(db, id, 'running', 'cancel_requested_at', values, { at: now, event });
}

export async function markReviewed(
  db: Executor,
  id: string,
  userId: string,
  now: Date,
): Promise<RunRow | undefined> {
  const values = { reviewed_at: now, reviewed_by: userId, updated_at: now };
  return await stampOnce(db, id, 'completed', 'reviewed_at', values, {
    at: now,
    event: { kind: 'reviewed', payload: { userId } },
  });
}

/**
 * held → admitted (DESIGN §17): the flow's admission pass hands these runs to the queue. Their
 * queued-stale window counts from `now`. Only runs still held and queued move.
 */
export async function admitRuns(db: Executor, ids: string[], now: Date): Promise<RunRow[]> {
  if (ids.length === 0) return [];
  const update = db
    .updateTable('operation_runs')
    .set({ held: false, eligible_at: now, updated_at: now })
    .where('id', 'in', ids)
    .where('status', '=', 'queued')
    .where('held', '=', true)
    .returningAll();
  return await withEventsEach(db, update, { at: now, events: [{ kind: 'admitted' }] });
}

/**
 * A queued run that has not started goes back to waiting for admission (a pause its worker found
 * at the gate): no longer eligible, so never judged stale while it waits.
 */
export async function holdRun(
  db: Executor,
  id: string,
  now: Date,
  why: { reason: string; message: string },
): Promise<RunRow | undefined> {
  const update = db
    .updateTable('operation_runs')
    .set({ held: true, eligible_at: null, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .where('cancel_requested_at', 'is', null)
    .returningAll();
  return await withEvents(db, update, { at: now, events: [{ kind: 'held', payload: why }] });
}
