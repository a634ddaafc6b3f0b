import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { ListBucket } from './buckets.js';
import type { LifecyclePolicy } from './lifecycle.js';
import type { RunOutcome, RunStatus } from './run.js';
import { type StalenessFacts, staleness, staleWindows, windowOpened } from './staleness.js';

/**
 * The classes a run is in (DESIGN §6), each defined ONCE: a JS predicate (deriveTruth and tests)
 * and the same predicate in SQL (the read model), side by side. `test/domain/run-classes.test.ts`
 * seeds a row of every kind and checks that the two agree on every row.
 */

/** A run that has not finished. */
export const ACTIVE_STATUSES = ['queued', 'running'] as const satisfies readonly RunStatus[];
/** Terminal outcomes that need a person to follow up (or were reconciled). */
export const FOLLOW_UP_OUTCOMES = [
  'failed',
  'blocked',
  'partially_succeeded',
] as const satisfies readonly RunOutcome[];

export type Bucket =
  | 'active'
  | 'active_stale'
  | 'reconciled'
  | 'terminal_follow_up'
  | 'succeeded'
  | 'cancelled';
export type ProblemClass = 'none' | 'active_stale' | 'reconciled' | 'terminal_follow_up';

/** The facts the classes read (a `RunRow` and `RunFacts` satisfy it). */
export interface ClassFacts extends StalenessFacts {
  outcome: RunOutcome;
  reconciliation: unknown;
}

/**
 * What the SQL predicates need: the table (or alias) they read, the instant they judge at, and the
 * policies of the types with active runs. A type missing from `policies` (a run started after
 * they were read) is judged fresh, as a run that new is.
 */
export interface SqlJudge {
  table: string;
  now: Date;
  policies: ReadonlyArray<readonly [type: string, policy: LifecyclePolicy]>;
}

export function sqlJudge(
  now: Date,
  policies: SqlJudge['policies'] = [],
  table = 'operation_runs',
): SqlJudge {
  return { now, policies, table };
}

export interface RunClass {
  test(run: ClassFacts, policy: LifecyclePolicy, now: Date): boolean;
  sql(judge: SqlJudge): RawBuilder<SqlBool>;
}

const col = (judge: SqlJudge, name: string) => sql.ref(`${judge.table}.${name}`);
const list = (values: readonly string[]) => sql.join(values.map((v) => sql.lit(v)));
const all = (parts: RawBuilder<unknown>[]) => sql<SqlBool>`(${sql.join(parts, sql` and `)})`;

/** Whether a run has not finished (queued or running). */
export function isActive(run: Pick<ClassFacts, 'status'>): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(run.status);
}
const isFollowUpOutcome = (run: ClassFacts) =>
  (FOLLOW_UP_OUTCOMES as readonly string[]).includes(run.outcome);
const isReconciled = (run: ClassFacts) => run.reconciliation !== null;

export function activeSql(judge: SqlJudge): RawBuilder<SqlBool> {
  return sql<SqlBool>`${col(judge, 'status')} in (${list(ACTIVE_STATUSES)})`;
}
/** A run that has finished (whatever its outcome). */
export function terminalSql(judge: SqlJudge): RawBuilder<SqlBool> {
  return sql<SqlBool>`${col(judge, 'status')} = 'completed'`;
}
const outcomeSql = (judge: SqlJudge, outcomes: readonly RunOutcome[]) =>
  sql`${col(judge, 'outcome')} in (${list(outcomes)})`;

/** `staleness` in SQL: the window each type's policy gives, opened at `judge.now`. */
function staleSql(judge: SqlJudge): RawBuilder<SqlBool> {
  if (!judge.policies.length) return sql<SqlBool>`false`;
  const opened = (window: 'queued' | 'lost' | 'running') =>
    sql`(case ${col(judge, 'type')} ${sql.join(
      judge.policies.map(
        ([type, policy]) =>
          sql`when ${type} then cast(${windowOpened(judge.now, staleWindows(policy)[window])} as timestamptz)`,
      ),
      sql` `,
    )} end)`;
  const [status, created, started, beat, held, eligible, fleet] = [
    'status',
    'created_at',
    'started_at',
    'last_heartbeat_at',
    'held',
    'eligible_at',
    'fleet',
  ].map((name) => col(judge, name));
  return sql<SqlBool>`coalesce(not ${fleet} and ((${status} = 'queued' and not ${held}
      and greatest(coalesce(${eligible}, ${created}), ${beat}) < ${opened('queued')})
    or (${status} = 'running' and (coalesce(${beat}, ${started}, ${created}) < ${opened('lost')}
      or coalesce(${started}, ${created}) < ${opened('running')}))), false)`;
}

/** Every class, in the order `bucketOf` tries them; together they cover every storable run. */
export const RUN_CLASSES: Record<Bucket, RunClass> = {
  active: {
    test: (run, policy, now) => isActive(run) && !staleness(run, policy, now).stale,
    sql: (judge) => all([activeSql(judge), sql`not ${staleSql(judge)}`]),
  },
  active_stale: {
    test: (run, policy, now) => isActive(run) && staleness(run, policy, now).stale,
    sql: (judge) => all([activeSql(judge), staleSql(judge)]),
  },
  // The reconciler always records a failure; naming the outcomes lets the problem index serve it.
  reconciled: {
    test: (run) => run.status === 'completed' && isReconciled(run) && isFollowUpOutcome(run),
    sql: (judge) =>
      all([terminalSql(judge), col(judge, 'reconciled'), outcomeSql(judge, FOLLOW_UP_OUTCOMES)]),
  },
  terminal_follow_up: {
    test: (run) => run.status === 'completed' && !isReconciled(run) && isFollowUpOutcome(run),
    sql: (judge) =>
      all([
        terminalSql(judge),
        sql`not ${col(judge, 'reconciled')}`,
        outcomeSql(judge, FOLLOW_UP_OUTCOMES),
      ]),
  },
  succeeded: {
    test: (run) => run.status === 'completed' && run.outcome === 'succeeded',
    sql: (judge) => all([terminalSql(judge), outcomeSql(judge, ['succeeded'])]),
  },
  cancelled: {
    test: (run) => run.status === 'completed' && run.outcome === 'cancelled',
    sql: (judge) => all([terminalSql(judge), outcomeSql(judge, ['cancelled'])]),
  },
};

const ORDER = Object.keys(RUN_CLASSES) as Bucket[];
/** A completed run always has a terminal outcome (a database check), so this never applies. */
const FALLBACK: Bucket = 'terminal_follow_up';

/** The bucket a run is in: what `deriveTruth` and every list, count and summary go by. */
export function bucketOf(run: ClassFacts, policy: LifecyclePolicy, now: Date): Bucket {
  return ORDER.find((bucket) => RUN_CLASSES[bucket].test(run, policy, now)) ?? FALLBACK;
}

/** `bucketOf` in SQL: the bucket's name for each row. */
export function bucketSql(judge: SqlJudge): RawBuilder<Bucket> {
  return sql<Bucket>`(case ${sql.join(
    ORDER.map((bucket) => sql`when ${RUN_CLASSES[bucket].sql(judge)} then ${sql.lit(bucket)}`),
    sql` `,
  )} else ${sql.lit(FALLBACK)} end)`;
}

export const PROBLEM_CLASS: Record<Bucket, ProblemClass> = {
  active: 'none',
  active_stale: 'active_stale',
  reconciled: 'reconciled',
  terminal_follow_up: 'terminal_follow_up',
  succeeded: 'none',
  cancelled: 'none',
};

/**
 * The tone each class is shown in (DESIGN §6, issue #14 point 10): one per class and no two alike,
 * so a likely-stale run never looks active, and reconciled, follow-up and succeeded runs never share
 * a colour. `deriveTruth` puts it on the truth; the surfaces only map a tone to a colour.
 */
export const CLASS_TONES = ['info', 'caution', 'system', 'danger', 'success', 'neutral'] as const;
export type ClassTone = (typeof CLASS_TONES)[number];

export const CLASS_TONE: Record<Bucket, ClassTone> = {
  active: 'info',
  active_stale: 'caution',
  reconciled: 'system',
  terminal_follow_up: 'danger',
  succeeded: 'success',
  cancelled: 'neutral',
};

/** A list bucket (DESIGN §11) in SQL; `all` holds every run. */
export function listBucketSql(bucket: ListBucket, judge: SqlJudge): RawBuilder<SqlBool> {
  return bucket === 'all' ? sql<SqlBool>`true` : RUN_CLASSES[bucket].sql(judge);
}

/** Whether a list bucket's predicate needs the policies of the active types. */
export function judgesStaleness(bucket: ListBucket | Bucket): boolean {
  return bucket === 'active' || bucket === 'active_stale';
}

/** Terminal runs someone should look at: reconciled or needing follow-up (the system plane). */
export function problemSql(judge: SqlJudge): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${RUN_CLASSES.reconciled.sql(judge)} or ${RUN_CLASSES.terminal_follow_up.sql(judge)})`;
}

/** Whether a run has finished (what triage may act on). */
export function isTerminal(run: Pick<ClassFacts, 'status'>): boolean {
  return run.status === 'completed';
}
