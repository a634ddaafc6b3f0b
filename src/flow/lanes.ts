import { type Kysely, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';

// How a held run joins its lane, and how the admission pass excludes every such join while it
// decides (one lock: starts take it shared, the pass exclusive), so the pass never marks a lane
// empty while a start that puts a run in it is about to commit.

/** The advisory lock of admission (an arbitrary constant of our own). */
export const ADMISSION_LOCK = 727_017_001;
/** Heard by every admitter: a held run, a pause lifted, a limit changed. */
export const FLOW_CHANNEL = 'runwarden_flow';

/** The key a run's fairness and per-tenant limits go by: its tenant, else its workspace. */
export function tenantKeyOf(run: Pick<RunRow, 'tenant_id' | 'workspace_id'>): string {
  return run.tenant_id ?? run.workspace_id;
}

/**
 * In the transaction that made `run` held (a start, or a worker's hold): its lane is marked as
 * holding runs and the admitters are woken when it commits.
 */
export async function enterLane(
  trx: Kysely<Database>,
  run: Pick<RunRow, 'type' | 'tenant_id' | 'workspace_id' | 'priority'>,
): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(${ADMISSION_LOCK})`.execute(trx);
  await sql`insert into flow_lanes (type, tenant_key, priority, workspace_id, active)
    values (${run.type}, ${tenantKeyOf(run)}, ${run.priority}, ${run.workspace_id}, true)
    on conflict (type, tenant_key, priority) do update set active = true
      where not flow_lanes.active`.execute(trx);
  await wakeAdmitters(trx);
}

/** `enterLane` for many held runs at once (a fleet's children): one statement for their lanes. */
export async function enterLanes(
  trx: Kysely<Database>,
  runs: ReadonlyArray<Pick<RunRow, 'type' | 'tenant_id' | 'workspace_id' | 'priority'>>,
): Promise<void> {
  if (runs.length === 0) return;
  await sql`select pg_advisory_xact_lock_shared(${ADMISSION_LOCK})`.execute(trx);
  const lanes = [
    ...new Map(runs.map((r) => [`${r.type} ${tenantKeyOf(r)} ${r.priority}`, r])).values(),
  ];
  await sql`insert into flow_lanes (type, tenant_key, priority, workspace_id, active)
    select type, tenant_key, priority, workspace_id, true
    from unnest(${lanes.map((r) => r.type)}::text[], ${lanes.map(tenantKeyOf)}::uuid[],
      ${lanes.map((r) => r.priority)}::smallint[], ${lanes.map((r) => r.workspace_id)}::uuid[])
      as lane(type, tenant_key, priority, workspace_id)
    on conflict (type, tenant_key, priority) do update set active = true
      where not flow_lanes.active`.execute(trx);
  await wakeAdmitters(trx);
}

/** NOTIFY the admitters (in `db`'s transaction: heard only if it commits). */
export async function wakeAdmitters(db: Kysely<Database>): Promise<void> {
  await sql`select pg_notify(${FLOW_CHANNEL}, '')`.execute(db);
}
