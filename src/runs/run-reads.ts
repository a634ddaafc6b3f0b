import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { LIST_BUCKETS, type ListBucket } from '../domain/buckets.js';
import type { PolicyOf } from '../domain/lifecycle.js';
import { judgesStaleness, listBucketSql, type SqlJudge } from '../domain/run-classes.js';
import { idRange, inputDocuments, type RunSearch } from '../domain/search.js';
import { parentVisibleSql, type Visibility, visibleSql } from '../domain/visibility.js';
import type { WaitingFacts } from '../domain/waiting.js';
import { WINDOW_COLUMN } from '../domain/windows.js';
import { judgeAt } from './judge.js';

export { LIST_BUCKETS, type ListBucket };

/** The filters of the run list and of its bucket counts. */
export interface RunFilter {
  /** What the caller may see (src/access makes it): nothing outside it is read. */
  visibility: Visibility;
  type?: string;
  initiator?: string;
  /** The window, on the one window column (created_at): from inclusive, to exclusive. */
  from: Date;
  to?: Date;
  /** Only runs that ended in [from, to): a chart's bar (DESIGN §18). */
  ended?: { from: Date; to: Date };
  /** Only this fleet's children, started or joined (DESIGN §19). */
  parentId?: string;
  /** The search box's terms (DESIGN §18), each answered by an index. */
  search?: RunSearch;
}

export interface ListFilter extends RunFilter {
  bucket: ListBucket;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** A run row joined with its initiator's name, a person's or a service token's (every run read selects it). */
export type RunWithInitiator = RunRow & {
  initiator_name: string | null;
  /** Why a queued run waits, when the read model read it (`readWaiting`). */
  waiting?: WaitingFacts | null;
};

export interface ReadDeps {
  db: Kysely<Database>;
  policyOf: PolicyOf;
}

/**
 * The columns a run's view reads (`toRunView`, src/http/run-view.ts): a list selects only these,
 * never the input, context or queue facts a page of runs does not show.
 */
export const RUN_VIEW_COLUMNS = [
  'id',
  'workspace_id',
  'tenant_id',
  'type',
  'status',
  'outcome',
  'identity_hash',
  'initiator_user_id',
  'initiator_token_id',
  'summary_counts',
  'progress_processed',
  'progress_total',
  'failures',
  'reconciliation',
  'attempt',
  'created_at',
  'started_at',
  'completed_at',
  'last_heartbeat_at',
  'cancel_requested_at',
  'retry_of',
  'reviewed_at',
  'held',
  'eligible_at',
  'priority',
  'run_at',
  'expires_at',
  'fleet',
  'parent_id',
  'tags',
  'rerun_of',
] as const satisfies ReadonlyArray<keyof RunRow>;

/** What a run's view reads: the view's columns and the initiator's name. */
export type RunViewFacts = Pick<RunRow, (typeof RUN_VIEW_COLUMNS)[number]> & {
  initiator_name: string | null;
  /** Why a queued run waits, as the read model reads it (`readWaiting`); absent: not read. */
  waiting?: WaitingFacts | null;
};

/** A run as a list reads it: its view's facts and the row's version. */
export type RunViewRow = RunViewFacts & {
  /** The row version's transaction id (`xmin`): every write to the row gives it a new one. */
  row_version: string;
};

/** Runs joined to their initiator's display name: the person's, or the service token's. */
function withInitiator(db: Kysely<Database>) {
  return db
    .selectFrom('operation_runs')
    .leftJoin('users', 'users.id', 'operation_runs.initiator_user_id')
    .leftJoin('api_tokens', 'api_tokens.id', 'operation_runs.initiator_token_id')
    .select(sql<string | null>`coalesce(users.name, api_tokens.name)`.as('initiator_name'));
}

/** `selectRuns` with only the view's columns, and each row's version. */
function selectRunViews(db: Kysely<Database>) {
  return withInitiator(db)
    .select(RUN_VIEW_COLUMNS.map((column) => `operation_runs.${column}` as const))
    .select(sql<string>`operation_runs.xmin::text`.as('row_version'));
}

/** Run rows with the initiator's display name (read-only; RunService owns every write). */
export function selectRuns(db: Kysely<Database>) {
  return withInitiator(db).selectAll('operation_runs');
}

export async function findRun(
  db: Kysely<Database>,
  id: string,
): Promise<RunWithInitiator | undefined> {
  return await selectRuns(db).where('operation_runs.id', '=', id).executeTakeFirst();
}

export async function findRuns(db: Kysely<Database>, ids: string[]): Promise<RunWithInitiator[]> {
  if (!ids.length) return [];
  return await selectRuns(db).where('operation_runs.id', 'in', ids).execute();
}

/**
 * One page of runs, newest first, keyset-paged on (created_at, id). Every bucket, the two active
 * ones included, is its class's SQL predicate (src/domain/run-classes.ts), the rule each run's
 * `truth` follows too.
 */
export async function listRuns(
  deps: ReadDeps,
  filter: ListFilter,
  now: Date = new Date(),
): Promise<{ rows: RunViewRow[]; hasMore: boolean }> {
  const judge = await judgeAt(deps.db, deps.policyOf, now, judgesStaleness(filter.bucket));
  let query = selectRunViews(deps.db)
    .where(inBucket(filter, filter.bucket, judge))
    .orderBy('operation_runs.created_at', 'desc')
    .orderBy('operation_runs.id', 'desc');
  const after = filter.after;
  if (after) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('operation_runs.created_at', 'operation_runs.id'),
        '<',
        eb.tuple(after.createdAt, after.id),
      ),
    );
  }
  const rows = await query.limit(filter.limit + 1).execute();
  return { rows: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
}

/** The rows of one bucket under a filter: what a list shows and what its count counts. */
export function inBucket(
  filter: RunFilter,
  bucket: ListBucket,
  judge: SqlJudge,
): RawBuilder<SqlBool> {
  const column = (name: string) => sql.ref(`operation_runs.${name}`);
  const parts = [
    visibleSql(filter.visibility),
    sql`${column(WINDOW_COLUMN)} >= ${filter.from}`,
    listBucketSql(bucket, judge),
  ];
  if (filter.to) parts.push(sql`${column(WINDOW_COLUMN)} < ${filter.to}`);
  if (filter.type) parts.push(sql`${column('type')} = ${filter.type}`);
  if (filter.ended)
    parts.push(
      sql`${column('completed_at')} >= ${filter.ended.from} and ${column('completed_at')} < ${filter.ended.to}`,
    );
  if (filter.parentId)
    parts.push(
      sql`${column('id')} in (select run_id from fleet_children where parent_id = ${filter.parentId})`,
    );
  // A fleet is one row, its parent's, wherever the parent is listed too (DESIGN §19); a child
  // likely stuck still shows among the stale runs, as its parent is never stale itself.
  else if (bucket !== 'active_stale') parts.push(sql`not ${parentVisibleSql(filter.visibility)}`);
  if (filter.search) parts.push(...searchSql(filter.search, column));
  if (filter.initiator)
    parts.push(
      sql`(${column('initiator_user_id')} = ${filter.initiator} or ${column('initiator_token_id')} = ${filter.initiator})`,
    );
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}

/** The search's terms as SQL, each in the form its index answers (migration 0022). */
function searchSql(search: RunSearch, column: (name: string) => RawBuilder<unknown>) {
  const parts: RawBuilder<SqlBool>[] = [];
  if (search.idPrefix) {
    const [low, high] = idRange(search.idPrefix);
    parts.push(sql`${column('id')} between ${low}::uuid and ${high}::uuid`);
  }
  // The partial indexes' own predicates, said again so the planner may use them.
  if (search.tag)
    parts.push(
      sql`${column('tags')} <> '{}' and ${column('tags')} @> array[${search.tag}]::text[]`,
    );
  // The code of the run's latest failure, in the form of migration 0023's index.
  if (search.failureCode)
    parts.push(
      sql`${column('failures')} <> '[]' and (${column('failures')} -> -1 ->> 'code') = ${search.failureCode}`,
    );
  if (search.rerunOf) parts.push(sql`${column('rerun_of')} = ${search.rerunOf}::uuid`);
  for (const filter of search.input ?? []) {
    const any = inputDocuments(filter).map((doc) => sql`${column('input')} @> ${doc}::jsonb`);
    parts.push(sql`(${sql.join(any, sql` or `)})`);
  }
  return parts;
}

/** Bucket counts are exact up to this many; the list shows "1,000+" beyond. */
export const COUNT_CAP = 1_000;

/**
 * How many runs each list bucket holds under the same filters as the list, each counted by the
 * list's own predicate (capped at COUNT_CAP).
 */
export async function countBuckets(
  deps: ReadDeps,
  filter: RunFilter,
  now: Date = new Date(),
): Promise<Record<ListBucket, number>> {
  const judge = await judgeAt(deps.db, deps.policyOf, now);
  const capped = async (bucket: ListBucket) => {
    const inner = deps.db
      .selectFrom('operation_runs')
      .where(inBucket(filter, bucket, judge))
      .select(sql<number>`1`.as('one'))
      .limit(COUNT_CAP);
    const row = await deps.db
      .selectFrom(inner.as('capped'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return [bucket, Number(row.n)] as const;
  };
  return Object.fromEntries(await Promise.all(LIST_BUCKETS.map(capped))) as Record<
    ListBucket,
    number
  >;
}

/** The sequence number of the last run change announced on the stream's channel. */
export async function lastChangeSeq(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{
    last: string;
  }>`select last_value as last from run_changes_seq`.execute(db);
  return Number(rows[0]?.last ?? 0);
}
