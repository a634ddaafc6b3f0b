import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { FlowLimits } from '../domain/flow.js';
import { flowLimits } from '../domain/flow-limits.js';
import { type FlowCatalog, readOverrides, type StoredOverride } from './overrides.js';

// The limits in force, as platform staff see them (DESIGN §17): each type's and pool's limits,
// the override if any, and how many runs it counts now.

export interface LimitView {
  name: string;
  kind: 'type' | 'pool';
  types: string[];
  /** In force: the override's, else the catalog's. */
  limits: FlowLimits;
  declared: FlowLimits;
  override: StoredOverride | null;
  /** Admitted runs not finished (running, or queued for a worker), counted against it. */
  running: number;
  /** Runs of its types waiting for admission (a limit, a pause, or their runAt). */
  waiting: number;
}

/** Every limit of the catalog with its counts: two grouped reads through the partial indexes. */
export async function limitsView(db: Kysely<Database>, catalog: FlowCatalog): Promise<LimitView[]> {
  const overrides = await readOverrides(db);
  const limits = flowLimits(
    catalog.types,
    catalog.pools,
    new Map([...overrides].map(([name, o]) => [name, o.limits])),
  );
  const types = [...new Set([...limits.values()].flatMap((l) => l.types))];
  const counts = async (where: RawBuilder<unknown>) => {
    if (types.length === 0) return new Map<string, number>();
    const { rows } = await sql<{ type: string; n: number }>`
      select type, count(*)::int as n from operation_runs
      where ${where} and type = any(${types}::text[]) group by type`.execute(db);
    return new Map(rows.map((r) => [r.type, r.n]));
  };
  // The predicates of operation_runs_admitted_idx and operation_runs_held_idx, as written there.
  const running = await counts(
    sql`eligible_at is not null and status in ('queued', 'running') and not held`,
  );
  const waiting = await counts(sql`held and status = 'queued'`);
  const sum = (byType: Map<string, number>, of: string[]) =>
    of.reduce((n, type) => n + (byType.get(type) ?? 0), 0);
  return [...limits.values()]
    .map((limit) => ({
      name: limit.name,
      kind: limit.kind,
      types: limit.types,
      limits: limit.limits,
      declared: limit.declared,
      override: overrides.get(limit.name) ?? null,
      running: sum(running, limit.types),
      waiting: sum(waiting, limit.types),
    }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}
