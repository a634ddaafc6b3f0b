import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/** Upper bounds (seconds) of the run duration histogram; fixed: stored totals are aligned to them. */
export const RUN_DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14_400, 86_400];

export interface CompletionTotal {
  type: string;
  outcome: string;
  reconciled: boolean;
  /** Terminal runs, ever (retention's deletions included). */
  runs: number;
  /** Those that ran (have a start time): the duration histogram's observations. */
  timedRuns: number;
  durationSeconds: number;
  /** Cumulative: buckets[i] counts timed runs with duration ≤ RUN_DURATION_BUCKETS[i]. */
  buckets: number[];
}

const duration = sql`extract(epoch from completed_at - started_at)`;

/** The totals of a set of terminal runs (columns type, outcome, reconciled, started_at, completed_at). */
function aggregate(from: RawBuilder<unknown>): RawBuilder<unknown> {
  const buckets = sql.join(
    RUN_DURATION_BUCKETS.map((le) => sql`count(*) filter (where ${duration} <= ${sql.lit(le)})`),
  );
  return sql`select type, outcome, reconciled, count(*) as runs, count(started_at) as timed_runs,
      coalesce(sum(${duration}), 0)::float8 as duration_seconds, array[${buckets}]::bigint[] as buckets
    from ${from} group by type, outcome, reconciled`;
}

/**
 * Completions by type, outcome and reconciled since the ledger began: the live terminal rows plus
 * what retention archived, read in one statement (one snapshot), so a run moving from one to the
 * other is never counted twice nor missed.
 */
export async function completionTotals(db: Kysely<Database>): Promise<CompletionTotal[]> {
  const { rows } = await sql<{
    type: string;
    outcome: string;
    reconciled: boolean;
    runs: string;
    timed_runs: string;
    duration_seconds: number;
    buckets: string[];
  }>`${aggregate(sql`operation_runs where status = 'completed'`)}
    union all
    select type, outcome, reconciled, runs, timed_runs, duration_seconds, buckets
    from run_completion_totals`.execute(db);
  const totals = new Map<string, CompletionTotal>();
  for (const row of rows) {
    const key = `${row.type}\u0000${row.outcome}\u0000${row.reconciled}`;
    const total = totals.get(key) ?? {
      type: row.type,
      outcome: row.outcome,
      reconciled: row.reconciled,
      runs: 0,
      timedRuns: 0,
      durationSeconds: 0,
      buckets: RUN_DURATION_BUCKETS.map(() => 0),
    };
    total.runs += Number(row.runs);
    total.timedRuns += Number(row.timed_runs);
    total.durationSeconds += Number(row.duration_seconds);
    row.buckets.forEach((n, i) => {
      total.buckets[i] = (total.buckets[i] ?? 0) + Number(n);
    });
    totals.set(key, total);
  }
  return [...totals.values()];
}

/**
 * Deletes up to `limit` terminal runs of a workspace completed before `cutoff` and adds them to the
 * archived totals in the same statement; returns how many were deleted.
 */
export async function deleteAndArchive(
  db: Kysely<Database>,
  where: { workspaceId: string; cutoff: Date; limit: number },
): Promise<number> {
  const { rows } = await sql<{ deleted: string }>`
    with gone as (
      delete from operation_runs
      where id in (
        select id from operation_runs
        where workspace_id = ${where.workspaceId} and status = 'completed'
          and completed_at < ${where.cutoff}
        limit ${where.limit})
        and status = 'completed'
      returning type, outcome, reconciled, started_at, completed_at
    ),
    totals as (${aggregate(sql`gone`)}),
    saved as (
      insert into run_completion_totals
        (type, outcome, reconciled, runs, timed_runs, duration_seconds, buckets)
      select * from totals
      on conflict (type, outcome, reconciled) do update set
        runs = run_completion_totals.runs + excluded.runs,
        timed_runs = run_completion_totals.timed_runs + excluded.timed_runs,
        duration_seconds = run_completion_totals.duration_seconds + excluded.duration_seconds,
        buckets = array(
          select x + y from unnest(run_completion_totals.buckets, excluded.buckets)
            with ordinality as u(x, y, i) order by i)
    )
    select coalesce(sum(runs), 0) as deleted from totals`.execute(db);
  return Number(rows[0]?.deleted ?? 0);
}
