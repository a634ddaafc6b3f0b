import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { ListBucket } from '../domain/buckets.js';
import { judgesStaleness, type SqlJudge, sqlJudge } from '../domain/run-classes.js';
import type { RunSearch } from '../domain/search.js';
import { seeScopes } from '../domain/visibility.js';
import { judgeAt } from './judge.js';
import { inBucket, type ReadDeps, type RunFilter } from './run-reads.js';

/** What a bulk action acts on (DESIGN §18), as stored in its run's input. */
export type BulkAction = 'cancel' | 'retry';

export interface BulkTarget {
  workspaceId: string;
  action: BulkAction;
  /** The caller's tenant restriction when they asked (null: every tenant of the workspace). */
  tenantIds: readonly string[] | null;
  /** A selection, or the list's filter (the runs it shows, its bucket included). */
  ids?: readonly string[];
  filter?: {
    type?: string;
    tenantId?: string;
    initiator?: string;
    from: string;
    to?: string;
    /** Runs that ended in [from, to) (a chart's bar). */
    ended?: { from: string; to: string };
    bucket: ListBucket;
    search?: RunSearch;
  };
}

/** Which runs an action may still act on: cancel an active run once, retry an unsucceeded one once. */
function actionable(action: BulkAction): RawBuilder<SqlBool> {
  return action === 'cancel'
    ? sql<SqlBool>`(operation_runs.status in ('queued', 'running')
        and operation_runs.cancel_requested_at is null)`
    : sql<SqlBool>`(operation_runs.status = 'completed' and operation_runs.outcome <> 'succeeded'
        and not operation_runs.fleet
        and not exists (select 1 from operation_runs again where again.retry_of = operation_runs.id))`;
}

/**
 * The judge of the target's bucket at `now`. An action reads it once and moves its clock on per
 * batch (`at`): the policies of the types with active runs are one scan of every active run, which
 * per batch of a large action was most of its time.
 */
export async function targetJudge(deps: ReadDeps, target: BulkTarget, now: Date) {
  const bucket = target.filter?.bucket ?? 'all';
  const judge = await judgeAt(deps.db, deps.policyOf, now, judgesStaleness(bucket));
  return { judge, at: (later: Date) => sqlJudge(later, judge.policies) };
}

/** The target's rows the caller may act on under `judge`, as a predicate over `operation_runs`. */
function targetSql(target: BulkTarget, judge: SqlJudge) {
  const restricted = target.tenantIds;
  const tenantIds = target.filter?.tenantId
    ? restricted && !restricted.includes(target.filter.tenantId)
      ? []
      : [target.filter.tenantId]
    : restricted;
  const visibility = seeScopes([
    {
      workspaceId: target.workspaceId,
      tenantIds,
      ...(restricted && !target.filter?.tenantId ? { fleetParents: true } : {}),
    },
  ]);
  const bucket = target.filter?.bucket ?? 'all';
  const filter: RunFilter = {
    visibility,
    from: target.filter ? new Date(target.filter.from) : new Date(0),
    ...(target.filter?.to ? { to: new Date(target.filter.to) } : {}),
    ...(target.filter?.ended
      ? {
          ended: { from: new Date(target.filter.ended.from), to: new Date(target.filter.ended.to) },
        }
      : {}),
    ...(target.filter?.type ? { type: target.filter.type } : {}),
    ...(target.filter?.initiator ? { initiator: target.filter.initiator } : {}),
    ...(target.filter?.search ? { search: target.filter.search } : {}),
  };
  const parts = [inBucket(filter, bucket, judge), actionable(target.action)];
  if (target.ids) parts.push(sql<SqlBool>`operation_runs.id in (${sql.join([...target.ids])})`);
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}

/** How many runs the action would touch now (the preview's count). */
export async function countTargets(
  deps: ReadDeps,
  target: BulkTarget,
  now: Date,
  judge?: SqlJudge,
) {
  const row = await deps.db
    .selectFrom('operation_runs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where(targetSql(target, judge ?? (await targetJudge(deps, target, now)).judge))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The next `limit` runs to act on after `afterId`, in id order (the action's keyset). */
export async function nextTargets(
  deps: ReadDeps,
  target: BulkTarget,
  judge: SqlJudge,
  afterId: string | null,
  limit: number,
): Promise<Array<{ id: string; fleet: boolean }>> {
  let query = deps.db
    .selectFrom('operation_runs')
    .select(['operation_runs.id', 'operation_runs.fleet'])
    .where(targetSql(target, judge))
    .orderBy('operation_runs.id')
    .limit(limit);
  if (afterId) query = query.where('operation_runs.id', '>', afterId);
  return await query.execute();
}
