import { type Kysely, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { LIST_BUCKETS, type ListBucket } from '../domain/buckets.js';
import { DEFAULT_POLICY } from '../domain/lifecycle.js';
import { staleness } from '../domain/truth.js';
import type { OperationRegistry } from '../execution/registry.js';

export { LIST_BUCKETS, type ListBucket };

export interface ListFilter {
  workspaceId: string;
  /** The tenants the caller may see (null: all of the workspace's runs). */
  visibleTenantIds: string[] | null;
  tenantId?: string;
  type?: string;
  initiator?: string;
  from: Date;
  to?: Date;
  bucket: ListBucket;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** A run row joined with its initiator's name (every run read selects it). */
export type RunWithInitiator = RunRow & { initiator_name: string | null };

const NO_TENANT = '00000000-0000-0000-0000-000000000000';

/** Run rows with the initiator's display name (read-only; RunService owns every write). */
export function selectRuns(db: Kysely<Database>) {
  return db
    .selectFrom('operation_runs')
    .leftJoin('users', 'users.id', 'operation_runs.initiator_user_id')
    .selectAll('operation_runs')
    .select('users.name as initiator_name');
}

export async function findRunView(
  db: Kysely<Database>,
  id: string,
): Promise<RunWithInitiator | undefined> {
  return await selectRuns(db).where('operation_runs.id', '=', id).executeTakeFirst();
}

/**
 * One page of runs, newest first, keyset-paged on (created_at, id). The two active buckets are
 * split by the domain's `staleness` rule (the one each run's `truth` uses), applied to the few
 * active rows; the terminal buckets are plain column filters.
 */
export async function listRuns(
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  filter: ListFilter,
  now: Date = new Date(),
): Promise<{ rows: RunWithInitiator[]; hasMore: boolean }> {
  const wanted = filter.limit + 1;
  if (filter.bucket !== 'active' && filter.bucket !== 'active_stale') {
    const rows = await baseQuery(deps.db, filter, filter.after).limit(wanted).execute();
    return { rows: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
  }
  const wantStale = filter.bucket === 'active_stale';
  const found: RunWithInitiator[] = [];
  let after = filter.after;
  // Read a page's worth first; only when many rows fall in the other bucket, read more each time.
  for (let size = wanted; ; size = Math.min(size * 4, 2000)) {
    const chunk = await baseQuery(deps.db, filter, after).limit(size).execute();
    for (const run of chunk) {
      const policy = deps.registry.get(run.type)?.policy ?? DEFAULT_POLICY;
      if (staleness(run, policy, now).stale === wantStale) found.push(run);
      if (found.length === wanted) break;
    }
    const last = chunk.at(-1);
    if (found.length === wanted || chunk.length < size || !last) break;
    after = { createdAt: last.created_at, id: last.id };
  }
  return { rows: found.slice(0, filter.limit), hasMore: found.length > filter.limit };
}

function baseQuery(db: Kysely<Database>, filter: ListFilter, after: ListFilter['after']) {
  let query = selectRuns(db)
    .where('operation_runs.workspace_id', '=', filter.workspaceId)
    .where('operation_runs.created_at', '>=', filter.from)
    .orderBy('operation_runs.created_at', 'desc')
    .orderBy('operation_runs.id', 'desc');
  if (filter.to) query = query.where('operation_runs.created_at', '<', filter.to);
  if (filter.visibleTenantIds) {
    const ids = filter.visibleTenantIds.length ? filter.visibleTenantIds : [NO_TENANT];
    query = query.where('operation_runs.tenant_id', 'in', ids);
  }
  if (filter.tenantId) query = query.where('operation_runs.tenant_id', '=', filter.tenantId);
  if (filter.type) query = query.where('operation_runs.type', '=', filter.type);
  if (filter.initiator)
    query = query.where('operation_runs.initiator_user_id', '=', filter.initiator);
  if (after) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('operation_runs.created_at', 'operation_runs.id'),
        '<',
        eb.tuple(after.createdAt, after.id),
      ),
    );
  }
  switch (filter.bucket) {
    case 'active':
    case 'active_stale':
      return query.where('operation_runs.status', 'in', ['queued', 'running']);
    case 'succeeded':
      return query.where('operation_runs.outcome', '=', 'succeeded');
    case 'reconciled':
      return query
        .where('operation_runs.outcome', 'in', ['failed', 'blocked', 'partially_succeeded'])
        .where('operation_runs.reconciliation', 'is not', null);
    case 'terminal_follow_up':
      return query
        .where('operation_runs.outcome', 'in', ['failed', 'blocked', 'partially_succeeded'])
        .where('operation_runs.reconciliation', 'is', null);
    case 'all':
      return query;
  }
}

/** Bucket counts are exact up to this many; the list shows "1,000+" beyond. */
export const COUNT_CAP = 1_000;

/**
 * How many runs each list bucket holds under the same filters as the list (capped at
 * COUNT_CAP): the active pair split by `staleness`, the terminal ones counted in SQL.
 */
export async function countBuckets(
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  filter: Omit<ListFilter, 'bucket' | 'after' | 'limit'>,
  now: Date = new Date(),
): Promise<Record<ListBucket, number>> {
  const capped = async (bucket: ListBucket) => {
    const inner = baseQuery(deps.db, { ...filter, bucket, limit: COUNT_CAP }, undefined)
      .clearSelect()
      .clearOrderBy()
      .select(sql<number>`1`.as('one'))
      .limit(COUNT_CAP);
    const row = await deps.db
      .selectFrom(inner.as('capped'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const [active, succeeded, followUp, reconciled, all] = await Promise.all([
    baseQuery(deps.db, { ...filter, bucket: 'active', limit: COUNT_CAP }, undefined)
      .clearSelect()
      .clearOrderBy()
      .select([
        'operation_runs.type',
        'operation_runs.status',
        'operation_runs.created_at',
        'operation_runs.started_at',
        'operation_runs.last_heartbeat_at',
      ])
      .execute(),
    capped('succeeded'),
    capped('terminal_follow_up'),
    capped('reconciled'),
    capped('all'),
  ]);
  const stale = active.filter(
    (run) => staleness(run, deps.registry.get(run.type)?.policy ?? DEFAULT_POLICY, now).stale,
  ).length;
  return {
    active: active.length - stale,
    active_stale: stale,
    terminal_follow_up: followUp,
    reconciled,
    succeeded,
    all,
  };
}
