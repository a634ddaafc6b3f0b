import { type Kysely, type RawBuilder, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import { type Database, RUN_COLUMNS, type RunRow } from '../db/schema.js';
import type { SummaryCounts } from '../domain/counts.js';
import type { RunFailure, TerminalOutcome } from '../domain/run.js';
import { ACTIVE_STATUSES } from '../domain/run-classes.js';
import type { Completer } from './call-options.js';
import { deferNotify, withEventsEach } from './run-events.js';
import { RUNNING_EVENT } from './run-transitions.js';

// A worker's hot transitions for several runs in one statement (SharedStatements): each run keeps
// the compare-and-set of its one-run form (run-transitions.ts), with `deferNotify`. The runs'
// values travel as arrays read through sub-selects, so the planner cannot count them: every batch
// size costs the same to it, and PostgreSQL keeps one generic plan (a primary-key lookup per run)
// instead of planning each batch anew (0.15 ms a statement). The state checks are written `(…) is
// true` so no index can take them: with statistics from when few runs were active, the planner
// would otherwise AND an active-runs index (thousands of entries) with the primary key (1 ms).

type Executor = Kysely<Database>;

const ACTIVE = sql.join(ACTIVE_STATUSES.map((s) => sql.lit(s)));
const RETURNED = sql.raw(RUN_COLUMNS.map((c) => `operation_runs."${c}"`).join(', '));

export interface SharedStart {
  id: string;
  workerId: string;
  queueJobId: string | null;
}

/** queued → running for each run (as `markRunning`, a durable commit); returns the runs that moved. */
export async function markManyRunning(
  db: Executor,
  starts: readonly SharedStart[],
  now: Date,
  onlyIf?: RawBuilder<boolean>,
): Promise<RunRow[]> {
  const ids = sql`(select ${starts.map((s) => s.id)}::uuid[])`;
  const at = sql`array_position(${ids}, operation_runs.id)`;
  const update = sql`update operation_runs set
      status = 'running', attempt = attempt + 1,
      worker_id = (select ${starts.map((s) => s.workerId)}::text[])[${at}],
      queue_job_id = (select ${starts.map((s) => s.queueJobId)}::bigint[])[${at}],
      started_at = coalesce(started_at, ${now}), last_heartbeat_at = ${now}, updated_at = ${now}
    where operation_runs.id = any(${ids}::uuid[]) and (status = 'queued') is true
      and cancel_requested_at is null
      and ${onlyIf ?? sql<boolean>`true`} and ${deferNotify}
    returning ${RETURNED}`;
  return await withEventsEach(db, update, { at: now, events: [RUNNING_EVENT] });
}

export interface SharedProgress {
  id: string;
  processed: number;
  total: number | null;
}

/** A progress report for each run, only while it is active (as `writeProgress`). */
export async function writeManyProgress(
  db: Executor,
  reports: readonly SharedProgress[],
  now: Date,
): Promise<RunRow[]> {
  const ids = sql`(select ${reports.map((r) => r.id)}::uuid[])`;
  const at = sql`array_position(${ids}, operation_runs.id)`;
  const result = await prepared(sql<RunRow>`update operation_runs set
      progress_processed = (select ${reports.map((r) => r.processed)}::integer[])[${at}],
      progress_total = (select ${reports.map((r) => r.total)}::integer[])[${at}],
      last_heartbeat_at = ${now}, updated_at = ${now}
    where operation_runs.id = any(${ids}::uuid[])
      and (status in (${ACTIVE})) is true and ${deferNotify}
    returning ${RETURNED}`).execute(db);
  return result.rows;
}

export interface SharedCompletion {
  id: string;
  outcome: TerminalOutcome;
  counts: SummaryCounts;
  failures: RunFailure[];
  /** The handler's last progress report not yet written. */
  progress?: { processed: number; total: number | null };
  notice: { label: string; body: string };
  /** For `sameCommit`, as `moved.finished_job_id`: the queue's job this attempt ran as. */
  jobId: string | null;
  /** The worker's attempt completing it (`completer`), recorded in the `completed` event. */
  by?: Completer;
}

/**
 * active → completed for each run with a handler's result (as `completeRun` with its default
 * guard), the `completed` event and the initiator's notice; `sameCommit` may refer to
 * `moved.finished_job_id`.
 */
export async function completeManyRuns(
  db: Executor,
  completions: readonly SharedCompletion[],
  now: Date,
  sameCommit?: RawBuilder<unknown>,
): Promise<RunRow[]> {
  const rows = completions.map((c) => ({
    id: c.id,
    outcome: c.outcome,
    counts: c.counts,
    failures: c.failures,
    processed: c.progress?.processed ?? null,
    total: c.progress?.total ?? null,
    label: c.notice.label,
    body: c.notice.body,
    job_id: c.jobId,
    done_by: c.by ?? null,
  }));
  const ids = sql`(select ${rows.map((r) => r.id)}::uuid[])`;
  const update = sql`update operation_runs set
      status = 'completed', outcome = d.outcome,
      summary_counts = operation_runs.summary_counts || d.counts,
      failures = operation_runs.failures || d.failures, reconciliation = null,
      progress_processed = coalesce(d.processed, operation_runs.progress_processed),
      progress_total = case when d.processed is null then operation_runs.progress_total else d.total end,
      worker_id = null, completed_at = ${now}, updated_at = ${now}
    from jsonb_to_recordset((select ${JSON.stringify(rows)}::jsonb)) as d(id uuid, outcome text,
      counts jsonb, failures jsonb, processed integer, total integer, label text, body text,
      job_id bigint, done_by jsonb)
    where operation_runs.id = any(${ids}::uuid[]) and operation_runs.id = d.id
      and (operation_runs.status in (${ACTIVE})) is true and ${deferNotify}
    returning ${RETURNED}, d.label as notice_label, d.body as notice_body,
      d.job_id as finished_job_id, d.done_by as finished_by`;
  return await withEventsEach(db, update, {
    at: now,
    events: [
      {
        kind: 'completed',
        payload: sql`jsonb_build_object('outcome', outcome) || coalesce(finished_by, '{}')`,
      },
    ],
    notice: { label: sql<string>`moved.notice_label`, body: sql<string>`moved.notice_body` },
    sameCommit,
  });
}
