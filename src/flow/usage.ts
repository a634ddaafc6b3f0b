import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { type FlowUsage, startsKey, usageKey } from '../domain/admission.js';
import { type FlowLimit, rateWindows } from '../domain/flow-limits.js';

// What the limits have used, read by the admission pass under its lock from the runs themselves
// (no counter to drift): runs admitted and not finished, and starts per window. Both read only
// admitted runs of the types in play through their own indexes, so the cost follows the limits'
// size, not the backlog.

export async function readUsage(
  db: Kysely<Database>,
  limits: readonly FlowLimit[],
  now: Date,
): Promise<FlowUsage> {
  const usage: FlowUsage = { running: new Map(), starts: new Map() };
  const types = [...new Set(limits.flatMap((l) => l.types))];
  if (types.length === 0) return usage;
  const intervals = [...new Set(limits.flatMap((l) => rateWindows(l.limits)))].map(
    (r) => r.intervalSeconds,
  );
  const uniqueIntervals = [...new Set(intervals)];
  const active = await sql<{ type: string; key: string; running: number; unstarted: number }>`
    select type, coalesce(tenant_id, workspace_id) as key, count(*)::int as running,
      count(*) filter (where started_at is null)::int as unstarted
    from operation_runs
    where eligible_at is not null and status in ('queued', 'running') and not held
      and type = any(${types}::text[])
    group by 1, 2`.execute(db);
  const byType = new Map<string, FlowLimit[]>();
  for (const limit of limits)
    for (const type of limit.types) byType.set(type, [...(byType.get(type) ?? []), limit]);
  const add = (map: Map<string, number>, key: string, n: number) =>
    map.set(key, (map.get(key) ?? 0) + n);
  for (const row of active.rows) {
    for (const limit of byType.get(row.type) ?? []) {
      add(usage.running, usageKey(limit.name, row.key), row.running);
      add(usage.running, usageKey(limit.name, '*'), row.running);
    }
  }
  if (uniqueIntervals.length === 0) return usage;
  const longest = Math.max(...uniqueIntervals);
  const columns = uniqueIntervals.map(
    (
      seconds,
      i,
    ) => sql`count(*) filter (where started_at > ${new Date(now.getTime() - seconds * 1000)})::int as ${sql.ref(`c${i}`)},
      min(started_at) filter (where started_at > ${new Date(now.getTime() - seconds * 1000)}) as ${sql.ref(`o${i}`)}`,
  );
  const started = await sql<Record<string, unknown> & { type: string; key: string }>`
    select type, coalesce(tenant_id, workspace_id) as key, ${sql.join(columns)}
    from operation_runs
    where eligible_at is not null and type = any(${types}::text[])
      and started_at > ${new Date(now.getTime() - longest * 1000)}
    group by 1, 2`.execute(db);
  const starts = (limit: string, key: string, seconds: number, n: number, oldest: Date | null) => {
    const k = startsKey(limit, key, seconds);
    const current = usage.starts.get(k);
    const earliest =
      current?.oldest && oldest
        ? current.oldest < oldest
          ? current.oldest
          : oldest
        : (current?.oldest ?? oldest);
    usage.starts.set(k, { count: (current?.count ?? 0) + n, oldest: earliest });
  };
  for (const row of started.rows) {
    for (const limit of byType.get(row.type) ?? []) {
      for (const side of ['perTenant', 'total'] as const) {
        const rate = limit.limits.rate?.[side];
        if (!rate) continue;
        const i = uniqueIntervals.indexOf(rate.intervalSeconds);
        const n = Number(row[`c${i}`] ?? 0);
        const oldest = (row[`o${i}`] as Date | null) ?? null;
        starts(limit.name, side === 'perTenant' ? row.key : '*', rate.intervalSeconds, n, oldest);
      }
    }
  }
  // An admitted run that has not started yet will start within the window: it counts now.
  for (const row of active.rows) {
    if (row.unstarted === 0) continue;
    for (const limit of byType.get(row.type) ?? []) {
      const { perTenant, total } = limit.limits.rate ?? {};
      if (perTenant) starts(limit.name, row.key, perTenant.intervalSeconds, row.unstarted, null);
      if (total) starts(limit.name, '*', total.intervalSeconds, row.unstarted, null);
    }
  }
  return usage;
}
