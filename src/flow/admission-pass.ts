import { type Kysely, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { type Lane, laneKey, planAdmission, type WaitVerdict } from '../domain/admission.js';
import type { FlowLimits, FlowPool } from '../domain/flow.js';
import { type FlowLimit, type FlowType, flowLimits, limitsOfType } from '../domain/flow-limits.js';
import { type Clock, systemClock } from '../domain/run.js';
import type { RunService } from '../runs/run-service.js';
import { ADMISSION_LOCK } from './lanes.js';
import { readUsage } from './usage.js';

export interface AdmissionDeps {
  db: Kysely<Database>;
  runs: RunService;
  /** The catalog's types (those with `flow` have limits) and its `flowPools`. */
  types: readonly FlowType[];
  pools: readonly FlowPool[];
  /** Gives an admitted run its queue job, in the pass's transaction. */
  enqueue: (trx: Kysely<Database>, run: RunRow) => Promise<void>;
  clock?: Clock;
  /**
   * Admitted runs that may wait for a worker at once. Default: the live workers' job slots (at
   * least 1), so a backlog stays in the fair order here instead of the queue's FIFO.
   */
  readyTarget?: number;
}

export interface PassResult {
  admitted: RunRow[];
  expired: number;
  /**
   * When a held run may next become admissible with no event to say so: the next `runAt` of a
   * held run, or a rate window freeing a start for a lane it holds back. The admitter wakes then.
   */
  nextAt: Date | null;
}

interface LaneRow {
  type: string;
  tenant_key: string;
  priority: number;
  workspace_id: string;
  vtime: number;
  weight: number;
  verdict: unknown;
}

/**
 * One admission pass (DESIGN §17): under the admission lock, read the lanes holding runs, their
 * next runs, what the limits have used and the pauses; decide in memory (`planAdmission`); admit,
 * enqueue, expire, and record each waiting lane's reason, in one transaction. Any number of
 * processes may call it at once: the lock makes them take turns.
 */
export async function admissionPass(deps: AdmissionDeps): Promise<PassResult> {
  const clock = deps.clock ?? systemClock;
  return await deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${ADMISSION_LOCK})`.execute(trx);
    const now = clock();
    const known = new Set(deps.types.map((t) => t.type));
    const laneRows = (
      await sql<LaneRow>`
        select l.type, l.tenant_key, l.priority, l.workspace_id, l.verdict,
          coalesce(s.vtime, 0) as vtime, coalesce(t.weight, 1) as weight
        from flow_lanes l
        left join flow_shares s on s.tenant_key = l.tenant_key
        left join tenants t on t.id = l.tenant_key
        where l.active`.execute(trx)
    ).rows.filter((row) => known.has(row.type)); // another catalog's types are its workers' to admit
    if (laneRows.length === 0) return { admitted: [], expired: 0, nextAt: null };
    const budget = await freeSlots(trx, now, deps.readyTarget);
    const lanes = await withHeads(trx, laneRows, now, Math.max(1, budget));
    const typeByName = new Map(deps.types.map((t) => [t.type, t]));
    const limits = flowLimits(deps.types, deps.pools, await readOverrides(trx));
    const limitsOf = (type: string): FlowLimit[] => {
      const def = typeByName.get(type);
      return def ? limitsOfType(def).flatMap((name) => limits.get(name) ?? []) : [];
    };
    const inPlay = [...new Set(lanes.flatMap((lane) => limitsOf(lane.type)))];
    const usage = await readUsage(trx, inPlay, now);
    const paused = await pauseLookup(trx);
    const clockRow = await sql<{ vtime: number }>`select vtime from flow_clock`.execute(trx);
    const plan = planAdmission({
      lanes,
      limitsOf,
      usage,
      paused,
      budget,
      clock: clockRow.rows[0]?.vtime ?? 0,
      now,
    });
    for (const id of plan.expired) await deps.runs.expire(id, { trx });
    const admitted = await deps.runs.admit(
      plan.admit.map((a) => a.id),
      { trx },
    );
    for (const run of admitted) await deps.enqueue(trx, run);
    await writeShares(trx, plan.shares, plan.clock);
    await writeVerdicts(trx, laneRows, plan.verdicts, now);
    await retireEmptyLanes(trx, lanes);
    const next = await sql<{ at: Date | null }>`
      select min(run_at) as at from operation_runs
      where held and status = 'queued' and run_at > ${now}`.execute(trx);
    const nextAt = earliest([next.rows[0]?.at ?? null, ...windowsFreeing(plan.verdicts, now)]);
    return { admitted, expired: plan.expired.length, nextAt };
  });
}

/** When the rate windows holding lanes back free a start (later than now: never a busy loop). */
function windowsFreeing(verdicts: Map<string, WaitVerdict>, now: Date): Date[] {
  return [...verdicts.values()].flatMap((v) =>
    v.kind === 'rate' && Date.parse(v.nextAt) > now.getTime() ? [new Date(v.nextAt)] : [],
  );
}

function earliest(dates: Array<Date | null>): Date | null {
  return dates.reduce<Date | null>((min, d) => (d && (!min || d < min) ? d : min), null);
}

/**
 * Live workers' job slots, less the admitted runs already waiting for one. A run that has started
 * and is queued again waits out its retry backoff, not a worker: it takes no slot here.
 */
async function freeSlots(trx: Kysely<Database>, now: Date, target?: number): Promise<number> {
  const { rows } = await sql<{ slots: number; ready: number }>`
    select
      (select coalesce(sum(live_slots), 0)::int from workers
        where stopped_at is null
          and last_seen_at > ${now}::timestamptz - make_interval(secs => 3 * coalesce(heartbeat_ms, 5000) / 1000.0)
      ) as slots,
      (select count(*)::int from operation_runs
        where eligible_at is not null and status = 'queued' and not held
          and started_at is null) as ready`.execute(trx);
  const row = rows[0] ?? { slots: 0, ready: 0 };
  return Math.max(1, target ?? row.slots) - row.ready;
}

/** Each lane's next eligible held runs (oldest first), up to `limit`, through the held index. */
async function withHeads(
  trx: Kysely<Database>,
  rows: LaneRow[],
  now: Date,
  limit: number,
): Promise<Lane[]> {
  const { rows: heads } = await sql<{
    type: string;
    tenant_key: string;
    priority: number;
    id: string;
    expires_at: Date | null;
  }>`
    select l.type, l.tenant_key, l.priority, r.id, r.expires_at
    from unnest(${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.tenant_key)}::uuid[],
                ${rows.map((r) => r.priority)}::smallint[]) as l(type, tenant_key, priority)
    cross join lateral (
      select o.id, o.expires_at from operation_runs o
      where o.held and o.status = 'queued' and o.type = l.type
        and coalesce(o.tenant_id, o.workspace_id) = l.tenant_key and o.priority = l.priority
        and coalesce(o.run_at, o.created_at) <= ${now}
      order by coalesce(o.run_at, o.created_at), o.id
      limit ${limit}) r`.execute(trx);
  const lanes = new Map<string, Lane>(
    rows.map((r) => [
      laneKey({ type: r.type, tenantKey: r.tenant_key, priority: r.priority }),
      {
        type: r.type,
        tenantKey: r.tenant_key,
        priority: r.priority,
        workspaceId: r.workspace_id,
        vtime: Number(r.vtime),
        weight: Number(r.weight),
        heads: [],
      },
    ]),
  );
  for (const head of heads) {
    const key = laneKey({ type: head.type, tenantKey: head.tenant_key, priority: head.priority });
    lanes.get(key)?.heads.push({ id: head.id, expiresAt: head.expires_at });
  }
  return [...lanes.values()];
}

async function readOverrides(trx: Kysely<Database>): Promise<Map<string, FlowLimits>> {
  const rows = await trx.selectFrom('flow_limit_overrides').select(['name', 'limits']).execute();
  return new Map(rows.map((r) => [r.name, r.limits as FlowLimits]));
}

/** Which pause, if any, holds a lane: per type, per tenant, or per type × tenant. */
async function pauseLookup(trx: Kysely<Database>): Promise<(lane: Lane) => string | undefined> {
  const pauses = await trx
    .selectFrom('flow_pauses')
    .select(['id', 'workspace_id', 'type', 'tenant_id'])
    .execute();
  return (lane) =>
    pauses.find(
      (p) =>
        p.workspace_id === lane.workspaceId &&
        (p.type === null || p.type === lane.type) &&
        (p.tenant_id === null || p.tenant_id === lane.tenantKey),
    )?.id;
}

async function writeShares(trx: Kysely<Database>, shares: Map<string, number>, clock: number) {
  if (shares.size > 0) {
    await sql`insert into flow_shares (tenant_key, vtime)
      select * from unnest(${[...shares.keys()]}::uuid[], ${[...shares.values()]}::float8[])
      on conflict (tenant_key) do update set vtime = excluded.vtime`.execute(trx);
  }
  await sql`update flow_clock set vtime = ${clock} where vtime <> ${clock}`.execute(trx);
}

/** Each waiting lane's reason, written only when it changed (the waiting copy reads it). */
async function writeVerdicts(
  trx: Kysely<Database>,
  rows: LaneRow[],
  verdicts: Map<string, WaitVerdict>,
  now: Date,
) {
  const changed = rows.flatMap((row) => {
    const key = laneKey({ type: row.type, tenantKey: row.tenant_key, priority: row.priority });
    const verdict = verdicts.get(key) ?? null;
    return JSON.stringify(verdict) === JSON.stringify(row.verdict ?? null)
      ? []
      : [{ row, verdict: verdict === null ? null : JSON.stringify(verdict) }];
  });
  if (changed.length === 0) return;
  await sql`update flow_lanes l set verdict = v.verdict::jsonb, verdict_at = ${now}
    from unnest(${changed.map((c) => c.row.type)}::text[], ${changed.map((c) => c.row.tenant_key)}::uuid[],
                ${changed.map((c) => c.row.priority)}::smallint[], ${changed.map((c) => c.verdict)}::text[])
      as v(type, tenant_key, priority, verdict)
    where l.type = v.type and l.tenant_key = v.tenant_key and l.priority = v.priority`.execute(trx);
}

/** Lanes that hold no run at all any more (not even a later `runAt`) leave the admitter's round. */
async function retireEmptyLanes(trx: Kysely<Database>, lanes: Lane[]) {
  const empty = lanes.filter((lane) => lane.heads.length === 0);
  if (empty.length === 0) return;
  await sql`update flow_lanes l set active = false, verdict = null
    from unnest(${empty.map((l) => l.type)}::text[], ${empty.map((l) => l.tenantKey)}::uuid[],
                ${empty.map((l) => l.priority)}::smallint[]) as v(type, tenant_key, priority)
    where l.type = v.type and l.tenant_key = v.tenant_key and l.priority = v.priority
      and not exists (
        select 1 from operation_runs o
        where o.held and o.status = 'queued' and o.type = l.type
          and coalesce(o.tenant_id, o.workspace_id) = l.tenant_key and o.priority = l.priority)`.execute(
    trx,
  );
}
