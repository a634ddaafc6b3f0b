import { type Kysely, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { terminalNotice } from '../domain/notice.js';
import type { RunFailure, TerminalOutcome } from '../domain/run.js';
import { ACTIVE_STATUSES } from '../domain/run-classes.js';
import { sanitizeFailure } from '../domain/sanitize.js';
import { withEvents, withEventsEach } from './run-events.js';
import { completeRun } from './run-transitions.js';

// A fleet parent's statements (DESIGN §19), each a compare-and-set on the parent with its events.
// RunService applies them; its children's own transitions stay the ordinary ones.

type Executor = Kysely<Database>;

/** The outcomes a parent counts its children by; all present from the start. */
export const FLEET_OUTCOMES = [
  'succeeded',
  'partially_succeeded',
  'failed',
  'blocked',
  'cancelled',
] as const;

/** At most this many failed tenants are named on a parent that did not fully succeed. */
const NAMED_FAILURES = 20;

export async function linkChildren(
  db: Executor,
  parentId: string,
  children: ReadonlyArray<{ runId: string; tenantId: string; reused: boolean }>,
): Promise<void> {
  if (children.length === 0) return;
  await db
    .insertInto('fleet_children')
    .values(
      children.map((c) => ({
        parent_id: parentId,
        run_id: c.runId,
        tenant_id: c.tenantId,
        reused: c.reused,
      })),
    )
    .execute();
  const joined = children.filter((c) => c.reused).map((c) => c.runId);
  if (joined.length === 0) return;
  // Row-locks the joined runs until the start commits: a completion racing it waits, then sees
  // `in_fleet` and moves this parent too.
  await db
    .updateTable('operation_runs')
    .set({ in_fleet: true })
    .where('id', 'in', joined)
    .where('in_fleet', '=', false)
    .execute();
}

/**
 * Counts the given children that ended and were not counted yet into their parents' progress and
 * `summary_counts` (idempotent: each child is counted once, by `fleet_children.outcome`).
 * Returns the parents that moved.
 */
export async function countEndedChildren(
  db: Executor,
  childIds: readonly string[],
  now: Date,
): Promise<string[]> {
  if (childIds.length === 0) return [];
  const result = await sql<{ id: string }>`
    with ended as (
      update fleet_children fc set outcome = r.outcome
      from operation_runs r
      where fc.run_id = any(${childIds}::uuid[]) and r.id = fc.run_id
        and r.status = 'completed' and fc.outcome is null
      returning fc.parent_id, r.outcome),
    per_outcome as (
      select parent_id, outcome, count(*)::int as n from ended group by parent_id, outcome),
    per_parent as (
      select parent_id, sum(n)::int as n, jsonb_object_agg(outcome, n) as by_outcome
      from per_outcome group by parent_id)
    update operation_runs p set
      progress_processed = coalesce(p.progress_processed, 0) + pp.n,
      summary_counts = p.summary_counts || (
        select jsonb_object_agg(e.key, coalesce((p.summary_counts ->> e.key)::int, 0) + e.value::int)
        from jsonb_each_text(pp.by_outcome) e),
      updated_at = ${now}
    from per_parent pp
    where p.id = pp.parent_id and p.fleet and p.status in ('queued', 'running')
    returning p.id`.execute(db);
  return result.rows.map((r) => r.id);
}

/** queued → running for the parents of these children that run. */
export async function markParentsRunning(
  db: Executor,
  childIds: readonly string[],
  now: Date,
): Promise<RunRow[]> {
  if (childIds.length === 0) return [];
  const update = db
    .updateTable('operation_runs')
    .set((eb) => ({
      status: 'running',
      attempt: 1,
      started_at: eb.fn.coalesce('started_at', eb.val(now)),
      last_heartbeat_at: now,
      updated_at: now,
    }))
    .where('fleet', '=', true)
    .where('status', '=', 'queued')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('fleet_children')
        .innerJoin('operation_runs as child', 'child.id', 'fleet_children.run_id')
        .select('fleet_children.parent_id')
        .where('fleet_children.run_id', 'in', childIds)
        .where('child.status', '=', 'running'),
    )
    .returningAll();
  return await withEventsEach(db, update, {
    at: now,
    events: [{ kind: 'running', payload: { attempt: 1, fleet: true } }],
  });
}

/** The parents among `ids` whose children all ended: completed with the outcome they add up to. */
export async function completeDoneParents(
  db: Executor,
  ids: readonly string[],
  now: Date,
): Promise<RunRow[]> {
  if (ids.length === 0) return [];
  const done = await db
    .selectFrom('operation_runs')
    .selectAll()
    .where('id', 'in', ids)
    .where('fleet', '=', true)
    .where('status', 'in', ACTIVE_STATUSES)
    .where(sql<boolean>`progress_processed >= progress_total`)
    .execute();
  const completed: RunRow[] = [];
  for (const parent of done) {
    const outcome = fleetOutcome(parent);
    const failures = outcome === 'succeeded' ? [] : await failedTenants(db, parent);
    const moved = await completeRun(db, {
      id: parent.id,
      fields: { outcome, counts: {}, failures },
      at: now,
      events: [{ kind: 'completed', payload: { outcome, fleet: true } }],
      notice: terminalNotice({ outcome, failures }),
    });
    if (moved) completed.push(moved);
  }
  return completed;
}

function fleetOutcome(parent: RunRow): TerminalOutcome {
  if (parent.cancel_requested_at) return 'cancelled';
  const succeeded = parent.summary_counts.succeeded ?? 0;
  if (succeeded >= (parent.progress_total ?? 0)) return 'succeeded';
  return succeeded === 0 ? 'failed' : 'partially_succeeded';
}

/** The tenants whose child did not succeed, each with its child's first failure (sanitized). */
async function failedTenants(db: Executor, parent: RunRow): Promise<RunFailure[]> {
  const rows = await db
    .selectFrom('fleet_children as c')
    .innerJoin('operation_runs as r', 'r.id', 'c.run_id')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select(['t.slug', 'r.outcome', sql<string | null>`r.failures -> 0 ->> 'message'`.as('why')])
    .where('c.parent_id', '=', parent.id)
    .where('c.outcome', '<>', 'succeeded')
    .orderBy('t.slug')
    .limit(NAMED_FAILURES + 1)
    .execute();
  const failures = rows.slice(0, NAMED_FAILURES).map((row) =>
    sanitizeFailure({
      code: 'fleet.child_not_succeeded',
      message: `Tenant ${row.slug}: ${row.outcome.replace('_', ' ')}${row.why ? ` — ${row.why}` : ''}`,
    }),
  );
  const notSucceeded = (parent.progress_total ?? 0) - (parent.summary_counts.succeeded ?? 0);
  if (notSucceeded > NAMED_FAILURES) {
    failures.push({
      code: 'fleet.children_not_succeeded',
      message: `${notSucceeded} tenants did not succeed; the first ${NAMED_FAILURES} are listed.`,
    });
  }
  return failures;
}

/** A parent's cancel: flagged once; its children end it (queued ones are cancelled at once). */
export async function flagFleetCancel(
  db: Executor,
  id: string,
  now: Date,
  by: { userId: string | null },
): Promise<RunRow | undefined> {
  const update = db
    .updateTable('operation_runs')
    .set({ cancel_requested_at: now, updated_at: now })
    .where('id', '=', id)
    .where('fleet', '=', true)
    .where('status', 'in', ACTIVE_STATUSES)
    .where('cancel_requested_at', 'is', null)
    .returningAll();
  return await withEvents(db, update, {
    at: now,
    events: [{ kind: 'cancel_requested', payload: { userId: by.userId } }],
  });
}

/** Children that ended but were never counted (a completion whose parent update was lost). */
export async function uncountedEndedChildren(db: Executor, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('fleet_children as c')
    .innerJoin('operation_runs as r', 'r.id', 'c.run_id')
    .select('c.run_id')
    .distinct()
    .where('c.outcome', 'is', null)
    .where('r.status', '=', 'completed')
    .limit(limit)
    .execute();
  return rows.map((r) => r.run_id);
}

/** Active parents whose children were all counted (their completion was lost). */
export async function countedActiveParents(db: Executor, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('operation_runs')
    .select('id')
    .where('fleet', '=', true)
    .where('status', 'in', ACTIVE_STATUSES)
    .where(sql<boolean>`progress_processed >= progress_total`)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
