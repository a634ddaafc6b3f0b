import { sql } from 'kysely';
import { uuidv7 } from '../src/domain/uuid.js';
import { startRun } from '../src/execution/start.js';
import { wakeAdmitters } from '../src/flow/lanes.js';
import type { Span } from '../test/support/flow-spans.js';
import { catalog } from './flow-catalog.js';
import { queueFixture } from './queue-fixture.js';

export type FlowFixture = Awaited<ReturnType<typeof flowFixture>>;

/** A bench database with the flow catalog and `tenants` tenants in its workspace. */
export async function flowFixture(tenants: number) {
  const f = await queueFixture('flow', { operations: catalog });
  const ids = [f.tenantId];
  const rows = Array.from({ length: tenants - 1 }, (_, i) => ({
    id: uuidv7(),
    workspace_id: f.workspaceId,
    slug: `t${i + 1}`,
    name: `Tenant ${i + 1}`,
  }));
  if (rows.length > 0) await f.db.insertInto('tenants').values(rows).execute();
  ids.push(...rows.map((r) => r.id));
  return Object.assign(f, {
    tenants: ids,
    /** A run started through the real start path, for one tenant. */
    async startFor(type: string, tenantId: string, input: Record<string, unknown>) {
      const { run } = await startRun(
        { db: f.db, runs: f.runs, registry: f.registry },
        { type, workspaceId: f.workspaceId, tenantId, input, initiatorUserId: null },
      );
      return run;
    },
  });
}

/** No runs, jobs, lanes or shares left. */
export async function resetRuns(f: FlowFixture): Promise<void> {
  await sql`truncate operation_runs, flow_lanes, flow_shares cascade`.execute(f.db);
  await sql`delete from graphile_worker._private_jobs`.execute(f.db);
  await sql`update flow_clock set vtime = 0`.execute(f.db);
}

/**
 * `perTenant` held runs of `type` for each tenant, written in bulk as the start path writes a held
 * run (queued, held, in its lane; events left out), oldest first by `n`; each sleeps
 * `ms + (n % 7) * msStep`. The admitters are woken.
 */
export async function insertHeld(
  f: FlowFixture,
  options: { type: string; tenants: string[]; perTenant: number; ms: number; msStep?: number },
): Promise<void> {
  const { type, tenants, perTenant, ms } = options;
  const step = options.msStep ?? 0;
  const batch = Math.max(1, Math.floor(50_000 / perTenant));
  for (let i = 0; i < tenants.length; i += batch) {
    const some = tenants.slice(i, i + batch);
    await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome,
        identity_hash, input, created_at, updated_at, held, priority)
      select gen_random_uuid(), ${f.workspaceId}, t.id, ${type}, 'queued', 'pending',
        md5(t.id::text || ':' || g), jsonb_build_object('n', g, 'ms', ${ms}::int + (g % 7) * ${step}::int),
        now() - interval '1 hour' + g * interval '1 ms', now(), true, 0
      from unnest(${some}::uuid[]) as t(id) cross join generate_series(1, ${perTenant}::int) g`.execute(
      f.db,
    );
  }
  await f.db.transaction().execute(async (trx) => {
    await sql`insert into flow_lanes (type, tenant_key, priority, workspace_id, active)
      select ${type}, t, 0, ${f.workspaceId}, true from unnest(${tenants}::uuid[]) t
      on conflict (type, tenant_key, priority) do update set active = true`.execute(trx);
    await wakeAdmitters(trx);
  });
  await sql`analyze operation_runs`.execute(f.db);
}

/** The finished runs of `type` as spans per tenant (failed or unfinished ones counted apart). */
export async function spansOf(
  f: FlowFixture,
  type: string,
): Promise<{ spans: Span[]; notSucceeded: number }> {
  const rows = await f.db
    .selectFrom('operation_runs')
    .select(['tenant_id', 'started_at', 'completed_at', 'outcome'])
    .where('type', '=', type)
    .execute();
  const spans = rows.flatMap((r) =>
    r.started_at && r.completed_at
      ? [{ key: r.tenant_id as string, startedAt: r.started_at, completedAt: r.completed_at }]
      : [],
  );
  return { spans, notSucceeded: rows.filter((r) => r.outcome !== 'succeeded').length };
}

/** Active runs left (through the active runs' partial index). */
export async function activeRuns(f: FlowFixture): Promise<number> {
  const left = await sql<{ n: number }>`/* bench-probe */ select count(*)::int as n
    from operation_runs where status in ('queued', 'running')`.execute(f.db);
  return left.rows[0]?.n ?? 0;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
