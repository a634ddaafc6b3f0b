import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { DEFAULT_POLICY } from '../domain/lifecycle.js';
import { staleness } from '../domain/truth.js';
import type { OperationRegistry } from '../execution/registry.js';

export interface Summary {
  /** Active runs within their lifecycle window. */
  activeFresh: number;
  /** Active runs past it (the same rule as each run's `truth`). */
  activeStale: number;
  reconciled24h: number;
  /** Failed, blocked or partially succeeded in 7 days (not reconciled). */
  followUp7d: number;
  succeeded7d: number;
}

export interface SummaryScope {
  workspaceId: string;
  /** One tenant; or, for a tenant-restricted member, the tenants they may see. */
  tenantIds?: string[] | null;
}

/**
 * Dashboard counts (DESIGN §11 summary). Active runs are judged by the domain's `staleness`, the
 * one rule every run row uses too, so a run counted stale here is stale on its row.
 */
export async function summarize(
  deps: { db: Kysely<Database>; registry: OperationRegistry; terminalCache?: TerminalCountsCache },
  scope: SummaryScope,
  now: Date = new Date(),
): Promise<Summary> {
  const tenants = scope.tenantIds ?? null;
  let active = deps.db
    .selectFrom('operation_runs')
    .select(['type', 'status', 'created_at', 'started_at', 'last_heartbeat_at'])
    .where('workspace_id', '=', scope.workspaceId)
    .where('status', 'in', ['queued', 'running']);
  if (tenants)
    active = active.where(
      'tenant_id',
      'in',
      tenants.length ? tenants : ['00000000-0000-0000-0000-000000000000'],
    );
  const day = 24 * 3600 * 1000;
  let terminal = deps.db
    .selectFrom('operation_runs')
    .select([
      sql<string>`count(*) filter (where reconciled and completed_at >= ${new Date(now.getTime() - day)})`.as(
        'reconciled24h',
      ),
      sql<string>`count(*) filter (where not reconciled and outcome in ('failed', 'blocked', 'partially_succeeded'))`.as(
        'followUp7d',
      ),
      sql<string>`count(*) filter (where outcome = 'succeeded')`.as('succeeded7d'),
    ])
    .where('workspace_id', '=', scope.workspaceId)
    .where('status', '=', 'completed')
    .where('completed_at', '>=', new Date(now.getTime() - 7 * day));
  if (tenants)
    terminal = terminal.where(
      'tenant_id',
      'in',
      tenants.length ? tenants : ['00000000-0000-0000-0000-000000000000'],
    );

  const key = `${scope.workspaceId}:${tenants ? [...tenants].sort().join(',') : '*'}`;
  const countTerminal = () => terminal.executeTakeFirstOrThrow();
  const [activeRows, counts] = await Promise.all([
    active.execute(),
    deps.terminalCache ? deps.terminalCache.get(key, now, countTerminal) : countTerminal(),
  ]);
  let activeStale = 0;
  for (const run of activeRows) {
    const policy = deps.registry.get(run.type)?.policy ?? DEFAULT_POLICY;
    if (staleness(run, policy, now).stale) activeStale += 1;
  }
  return {
    activeFresh: activeRows.length - activeStale,
    activeStale,
    reconciled24h: Number(counts.reconciled24h),
    followUp7d: Number(counts.followUp7d),
    succeeded7d: Number(counts.succeeded7d),
  };
}

type TerminalCounts = { reconciled24h: string; followUp7d: string; succeeded7d: string };

/**
 * The terminal half of a summary (24 h / 7 day windows) counts a week of runs: on a busy workspace
 * that is ~100k index entries per request. Dashboards may show those counts up to `ttlMs` old, so
 * one count per scope serves everyone meanwhile; active counts are always read fresh.
 */
export class TerminalCountsCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; value: Promise<TerminalCounts> }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get(key: string, now: Date, load: () => Promise<TerminalCounts>): Promise<TerminalCounts> {
    const hit = this.#entries.get(key);
    if (hit && now.getTime() - hit.at < this.#ttlMs) return hit.value;
    const value = load();
    this.#entries.set(key, { at: now.getTime(), value });
    value.catch(() => this.#entries.delete(key));
    if (this.#entries.size > 10_000) this.#entries.clear();
    return value;
  }
}
