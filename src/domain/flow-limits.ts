import type { FlowLimits, FlowPool, FlowSpec, RateLimit } from './flow.js';

// The limits in force (DESIGN §17): a type's own `flow` and its pools', each replaced as a whole by
// platform staff's runtime override when there is one. One limit is a named set of rules over the
// runs of one or more types (a pool's name covers every type that draws from it).

export type Priority = 'high' | 'normal' | 'low';
/** Stored as a smallint: lower goes first, as in graphile-worker. */
export const PRIORITY_RANK: Record<Priority, number> = { high: -1, normal: 0, low: 1 };
export const PRIORITIES = Object.keys(PRIORITY_RANK) as Priority[];

export function priorityOf(rank: number): Priority {
  return rank < 0 ? 'high' : rank > 0 ? 'low' : 'normal';
}

export interface FlowLimit {
  name: string;
  kind: 'type' | 'pool';
  /** The types whose runs count against it. */
  types: string[];
  limits: FlowLimits;
  /** The catalog's limits, before any override. */
  declared: FlowLimits;
  overridden: boolean;
}

/** What a rule needs of the type catalog. */
export interface FlowType {
  type: string;
  label?: string;
  flow?: FlowSpec;
}

/** Every limit by name: one per type with `flow` (even empty: fair dispatch only), one per pool. */
export function flowLimits(
  types: readonly FlowType[],
  pools: readonly FlowPool[],
  overrides: ReadonlyMap<string, FlowLimits> = new Map(),
): Map<string, FlowLimit> {
  const limits = new Map<string, FlowLimit>();
  const limit = (name: string, kind: FlowLimit['kind'], declared: FlowLimits): FlowLimit => {
    const override = overrides.get(name);
    return {
      name,
      kind,
      types: [],
      declared: { concurrency: declared.concurrency, rate: declared.rate },
      limits: override ?? { concurrency: declared.concurrency, rate: declared.rate },
      overridden: override !== undefined,
    };
  };
  for (const pool of pools) limits.set(pool.name, limit(pool.name, 'pool', pool));
  for (const { type, flow } of types) {
    if (!flow) continue;
    const own = limit(type, 'type', flow);
    own.types.push(type);
    limits.set(type, own);
    for (const name of new Set(flow.pools ?? [])) limits.get(name)?.types.push(type);
  }
  return limits;
}

/** The names of the limits a type's runs draw from: its own, then its pools'. */
export function limitsOfType(type: FlowType): string[] {
  return type.flow ? [type.type, ...new Set(type.flow.pools ?? [])] : [];
}

/** The shortest and longest window of any rate rule (a `RateLimit` per side). */
export function rateWindows(limit: FlowLimits): RateLimit[] {
  const rate = limit.rate;
  return [rate?.perTenant, rate?.total].filter((r): r is RateLimit => r !== undefined);
}
