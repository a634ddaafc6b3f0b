// Flow control declarations (DESIGN §17): how many runs of a type may run at once and start per
// window, per tenant and across all, and which shared pools (one tenant's API budget used by
// several types) it draws from. Only the declarations and their checks live here.

/** Starts allowed per window. */
export interface RateLimit {
  limit: number;
  intervalSeconds: number;
}

/** The limits a type or a pool sets; every part optional. */
export interface FlowLimits {
  /** Runs running at once: per tenant (a workspace-level run counts against its workspace), and across all. */
  concurrency?: { perTenant?: number; total?: number };
  /** Starts per window: per tenant, and across all. */
  rate?: { perTenant?: RateLimit; total?: RateLimit };
}

/** An operation type's `flow`: its own limits, and the shared pools it also draws from. */
export interface FlowSpec extends FlowLimits {
  pools?: string[];
}

/** A limit several types share, declared once in the catalog (`flowPools`). */
export interface FlowPool extends FlowLimits {
  name: string;
}

const POOL_NAME = /^[a-z][a-z0-9_.-]*$/;
const SPEC_KEYS = new Set(['concurrency', 'rate', 'pools']);
const POOL_KEYS = new Set(['name', 'concurrency', 'rate']);
const SIDE_KEYS = new Set(['perTenant', 'total']);
const RATE_KEYS = new Set(['limit', 'intervalSeconds']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function unknownKeys(where: string, value: Record<string, unknown>, known: Set<string>): string[] {
  return Object.keys(value)
    .filter((key) => !known.has(key))
    .map((key) => `${where}: unknown setting "${key}"`);
}

/**
 * The problems of one set of limits (`where` names it in each message, e.g. `inventory.sync flow`
 * or `flow pool "graph"`), checked against the queued-stale window of the types that use it: a
 * rate window at least that long could hold an eligible run past it.
 */
export function limitProblems(
  where: string,
  limits: Record<string, unknown>,
  queuedStaleSeconds: number,
): string[] {
  const problems: string[] = [];
  const { concurrency, rate } = limits;
  if (concurrency !== undefined) {
    if (!isRecord(concurrency)) problems.push(`${where}: concurrency must be an object`);
    else {
      problems.push(...unknownKeys(`${where} concurrency`, concurrency, SIDE_KEYS));
      for (const side of ['perTenant', 'total'] as const) {
        const n = concurrency[side];
        if (n !== undefined && !isPositiveInteger(n))
          problems.push(
            `${where}: concurrency.${side} must be a whole number ≥ 1, got ${String(n)}`,
          );
      }
      const { perTenant, total } = concurrency;
      if (isPositiveInteger(perTenant) && isPositiveInteger(total) && perTenant > total)
        problems.push(
          `${where}: concurrency.perTenant (${perTenant}) is above concurrency.total (${total}); ` +
            'no tenant could ever use it',
        );
    }
  }
  if (rate !== undefined) {
    if (!isRecord(rate)) problems.push(`${where}: rate must be an object`);
    else {
      problems.push(...unknownKeys(`${where} rate`, rate, SIDE_KEYS));
      for (const side of ['perTenant', 'total'] as const) {
        const window = rate[side];
        if (window === undefined) continue;
        if (!isRecord(window)) {
          problems.push(`${where}: rate.${side} must be { limit, intervalSeconds }`);
          continue;
        }
        problems.push(...unknownKeys(`${where} rate.${side}`, window, RATE_KEYS));
        if (!isPositiveInteger(window.limit))
          problems.push(
            `${where}: rate.${side}.limit must be a whole number ≥ 1, got ${String(window.limit)}`,
          );
        const interval = window.intervalSeconds;
        if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0)
          problems.push(
            `${where}: rate.${side}.intervalSeconds must be a positive number of seconds, got ${String(interval)}`,
          );
        // Start times are compared to the millisecond: a window far below a second means nothing.
        else if (interval < 1)
          problems.push(
            `${where}: rate.${side}.intervalSeconds must be at least 1 second, got ${interval}`,
          );
        else if (interval >= queuedStaleSeconds)
          problems.push(
            `${where}: rate.${side}.intervalSeconds (${interval}) must stay below ` +
              `queuedStaleAfterSeconds (${queuedStaleSeconds}), or a run waiting for the next window ` +
              'could be reconciled as stale',
          );
      }
    }
  }
  return problems;
}

/**
 * Problems of a runtime override of the limit `name` (DESIGN §17): the catalog's rules for its
 * settings, a pool's override sets a limit as a pool must, and its rate windows stay below the
 * shortest queued-stale window of the types that draw from it.
 */
export function overrideProblems(
  limit: { name: string; kind: 'type' | 'pool' },
  limits: unknown,
  queuedStaleSeconds: number,
): string[] {
  const where = limit.kind === 'pool' ? `flow pool "${limit.name}"` : `${limit.name} flow`;
  if (!isRecord(limits)) return [`${where}: the limits must be an object`];
  const problems = [
    ...unknownKeys(where, limits, new Set(['concurrency', 'rate'])),
    ...limitProblems(where, limits, queuedStaleSeconds),
  ];
  if (limit.kind === 'pool' && limits.concurrency === undefined && limits.rate === undefined)
    problems.push(`${where} sets no limit: give it a concurrency or a rate`);
  return problems;
}

/** Problems of the catalog's `flowPools`: names, duplicates, settings (DESIGN §17). */
export function validateFlowPools(pools: unknown): string[] {
  if (pools === undefined) return [];
  if (!Array.isArray(pools)) return ['flowPools must be an array of { name, concurrency?, rate? }'];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, pool] of pools.entries()) {
    if (!isRecord(pool) || typeof pool.name !== 'string') {
      problems.push(`flowPools[${i}] must be { name, concurrency?, rate? }`);
      continue;
    }
    const where = `flow pool "${pool.name}"`;
    if (!POOL_NAME.test(pool.name))
      problems.push(`${where}: a name is lowercase letters, digits, "_", "." or "-"`);
    if (seen.has(pool.name)) problems.push(`${where} is declared twice`);
    seen.add(pool.name);
    problems.push(...unknownKeys(where, pool, POOL_KEYS));
    if (pool.concurrency === undefined && pool.rate === undefined)
      problems.push(`${where} sets no limit: give it a concurrency or a rate`);
    problems.push(...limitProblems(where, pool, Number.POSITIVE_INFINITY));
  }
  return problems;
}

/**
 * Problems of one type's `flow`: its settings, its pools (declared in `pools`), and the rate
 * windows it draws from (its own and its pools') against its queued-stale window.
 */
export function validateFlow(
  type: string,
  flow: unknown,
  context: { execution: 'queue' | 'external'; queuedStaleSeconds: number; pools: FlowPool[] },
): string[] {
  if (flow === undefined) return [];
  const where = `${type} flow`;
  if (!isRecord(flow)) return [`${where} must be an object`];
  if (context.execution === 'external')
    return [`${where}: flow control applies to queue types; an external type's runs run elsewhere`];
  const problems = [
    ...unknownKeys(where, flow, SPEC_KEYS),
    ...limitProblems(where, flow, context.queuedStaleSeconds),
  ];
  if (flow.pools !== undefined) {
    if (!Array.isArray(flow.pools) || flow.pools.some((p) => typeof p !== 'string'))
      problems.push(`${where}: pools must be a list of pool names`);
    else {
      const byName = new Map(context.pools.map((p) => [p.name, p]));
      for (const name of new Set(flow.pools as string[])) {
        const pool = byName.get(name);
        if (!pool) {
          problems.push(`${where}: pool "${name}" is not declared in the catalog's flowPools`);
          continue;
        }
        // A pool's window is checked against every type that draws from it.
        for (const side of ['perTenant', 'total'] as const) {
          const interval = pool.rate?.[side]?.intervalSeconds;
          if (typeof interval === 'number' && interval >= context.queuedStaleSeconds)
            problems.push(
              `${where}: pool "${name}" rate.${side}.intervalSeconds (${interval}) must stay below ` +
                `queuedStaleAfterSeconds (${context.queuedStaleSeconds}) of ${type}`,
            );
        }
      }
      if (new Set(flow.pools).size !== flow.pools.length)
        problems.push(`${where}: a pool is named twice`);
    }
  }
  return problems;
}
