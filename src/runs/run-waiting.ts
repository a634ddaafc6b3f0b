import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { WaitVerdict } from '../domain/admission.js';
import type { WaitingFacts } from '../domain/waiting.js';

/** A run whose wait may be read: which run, and whether it is still queued. */
type Waits = { id: string; status: string };

/**
 * The waiting facts (DESIGN §17) of the queued runs among `runs`, by id: one statement over those
 * runs only (their pause, their lane's last verdict, the names the copy needs) and whether any
 * worker is alive. Nothing is read when none of them is queued.
 */
export async function readWaiting(
  db: Kysely<Database>,
  runs: readonly Waits[],
  now: Date,
): Promise<Map<string, WaitingFacts>> {
  const queued = runs.filter((r) => r.status === 'queued').map((r) => r.id);
  if (!queued.length) return new Map();
  const { rows } = await sql<{
    id: string;
    type: string;
    held: boolean;
    run_at: Date | null;
    key_name: string;
    workspace_name: string;
    tenant_name: string | null;
    verdict: unknown;
    paused_at: Date | null;
    paused_by: string | null;
    paused_type: boolean | null;
    paused_tenant: boolean | null;
    workers: boolean;
  }>`
    select r.id, r.type, r.held, r.run_at,
      coalesce(t.name, w.name) as key_name, w.name as workspace_name, t.name as tenant_name,
      l.verdict, p.created_at as paused_at, u.name as paused_by,
      p.type is not null as paused_type, p.tenant_id is not null as paused_tenant,
      exists (select 1 from workers
        where stopped_at is null
          and last_seen_at > ${now}::timestamptz
            - make_interval(secs => 3 * coalesce(heartbeat_ms, 5000) / 1000.0)) as workers
    from operation_runs r
    join workspaces w on w.id = r.workspace_id
    left join tenants t on t.id = r.tenant_id
    left join flow_lanes l on r.held and l.type = r.type
      and l.tenant_key = coalesce(r.tenant_id, r.workspace_id) and l.priority = r.priority
    left join lateral (
      select p.created_at, p.created_by, p.type, p.tenant_id from flow_pauses p
      where r.held and p.workspace_id = r.workspace_id
        and (p.type is null or p.type = r.type)
        and (p.tenant_id is null or p.tenant_id = r.tenant_id)
      -- the narrowest pause first: lifting a wider one alone would not let the run go
      order by (p.type is not null)::int + (p.tenant_id is not null)::int desc, p.created_at
      limit 1) p on true
    left join users u on u.id = p.created_by
    where r.id = any(${queued}::uuid[]) and r.status = 'queued'`.execute(db);
  return new Map(
    rows.map((row) => [
      row.id,
      {
        type: row.type,
        held: row.held,
        runAt: row.run_at,
        pause: row.paused_at
          ? {
              by: row.paused_by,
              since: row.paused_at,
              type: row.paused_type === true,
              tenant: row.paused_tenant ? row.tenant_name : null,
              workspace: row.workspace_name,
            }
          : null,
        verdict: verdictOf(row.verdict),
        keyName: row.key_name,
        workers: row.workers,
      },
    ]),
  );
}

/** A lane's stored verdict, if it is one the copy knows (else none: it waits for a worker). */
function verdictOf(value: unknown): WaitVerdict | null {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return null;
  const v = value as Record<string, unknown>;
  const scoped = v.scope === 'tenant' || v.scope === 'total';
  if (v.kind === 'capacity' && typeof v.limit === 'string' && scoped) {
    if (typeof v.running === 'number' && typeof v.max === 'number') return value as WaitVerdict;
  }
  if (v.kind === 'rate' && typeof v.limit === 'string' && scoped && typeof v.nextAt === 'string') {
    return value as WaitVerdict;
  }
  if (v.kind === 'paused' || v.kind === 'worker') return value as WaitVerdict;
  return null;
}
