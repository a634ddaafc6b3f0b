import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { problemSql, RUN_CLASSES, type SqlJudge } from '../domain/run-classes.js';
import { SEE_ALL, type Visibility, visibleSql } from '../domain/visibility.js';
import { judgeAt } from './judge.js';
import { type ReadDeps, type RunWithInitiator, selectRuns } from './run-reads.js';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Active runs past their lifecycle window (the `active_stale` class), wherever they are: the
 * reconciler's candidates. Unordered, so the partial active index serves it whatever the history.
 */
export function staleRunsQuery(db: Kysely<Database>, judge: SqlJudge) {
  return db.selectFrom('operation_runs').selectAll().where(RUN_CLASSES.active_stale.sql(judge));
}

/** Running runs of one type silent since before `quietSince` (no heartbeat, start or creation after). */
export function quietRunsQuery(db: Kysely<Database>, type: string, quietSince: Date) {
  return db
    .selectFrom('operation_runs')
    .selectAll()
    .where('status', '=', 'running')
    .where('type', '=', type)
    .where(sql<boolean>`coalesce(last_heartbeat_at, started_at, created_at) < ${quietSince}`)
    .limit(1000);
}

/** The system plane's stuck list: stale active runs, oldest first. */
export async function stuckRuns(
  deps: ReadDeps,
  now: Date,
  visibility: Visibility = SEE_ALL,
): Promise<RunWithInitiator[]> {
  const judge = await judgeAt(deps.db, deps.policyOf, now);
  return await selectRuns(deps.db)
    .where(RUN_CLASSES.active_stale.sql(judge))
    .where(visibleSql(visibility))
    .orderBy('operation_runs.created_at', 'asc')
    .limit(10_000)
    .execute();
}

export interface FailureQuery {
  /** Finished within this many days (by when they finished). */
  days: number;
  reviewed: 'exclude' | 'include';
  limit: number;
}

/** The system plane's failures: terminal runs with a problem class, latest finished first. */
export async function failedRuns(
  deps: ReadDeps,
  query: FailureQuery,
  now: Date,
  visibility: Visibility = SEE_ALL,
): Promise<RunWithInitiator[]> {
  const judge = await judgeAt(deps.db, deps.policyOf, now, false);
  let q = selectRuns(deps.db)
    .where(problemSql(judge))
    .where(visibleSql(visibility))
    .where('operation_runs.completed_at', '>=', new Date(now.getTime() - query.days * DAY_MS))
    .orderBy('operation_runs.completed_at', 'desc')
    .limit(query.limit);
  if (query.reviewed === 'exclude') q = q.where('operation_runs.reviewed_at', 'is', null);
  return await q.execute();
}
