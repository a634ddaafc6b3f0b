import { type RawBuilder, type SqlBool, sql } from 'kysely';

/** One workspace a caller may see: every run of it (`tenantIds` null), or only these tenants'. */
export interface VisibleScope {
  workspaceId: string;
  /** null: every run of the workspace; otherwise only runs of these tenants (no workspace runs). */
  tenantIds: readonly string[] | null;
  /**
   * A tenant restriction (not a filter): also the fleet parents whose children's tenants are all
   * among `tenantIds` (DESIGN §19), which are workspace-level runs.
   */
  fleetParents?: boolean;
}

/**
 * What a caller may see, as a value (src/access makes it from a principal; the read model applies
 * it). `all`: every run of every workspace (the system plane, after its own authorization).
 */
export type Visibility = { all: true } | { all: false; scopes: readonly VisibleScope[] };

export const SEE_ALL: Visibility = { all: true };
export const SEE_NOTHING: Visibility = { all: false, scopes: [] };

export function seeScopes(scopes: readonly VisibleScope[]): Visibility {
  return { all: false, scopes };
}

/** The workspaces a visibility names (`undefined` for all of them). */
export function visibleWorkspaces(visibility: Visibility): string[] | undefined {
  return visibility.all ? undefined : visibility.scopes.map((s) => s.workspaceId);
}

/**
 * Whether a tenant restriction (null: none) covers a run's scope: a tenant-restricted member is
 * entitled only to their tenants' runs, never to workspace-level ones (tenant null).
 */
export function coversScope(restriction: readonly string[] | null, tenantId: string | null) {
  return restriction === null || (tenantId !== null && restriction.includes(tenantId));
}

/** Whether two visibilities show the same runs (a live stream's re-check). */
export function sameVisibility(a: Visibility, b: Visibility): boolean {
  const key = (v: Visibility) =>
    v.all
      ? '*'
      : v.scopes
          .map(
            (s) =>
              `${s.workspaceId}:${s.tenantIds ? [...s.tenantIds].sort().join(',') : '*'}:${s.fleetParents ? 'p' : ''}`,
          )
          .sort()
          .join(' ');
  return key(a) === key(b);
}

/** Whether a run in this workspace and tenant is visible (the stream's per-event check). */
export function canSee(
  visibility: Visibility,
  run: { workspaceId: string; tenantId: string | null },
): boolean {
  if (visibility.all) return true;
  return visibility.scopes.some(
    (s) => s.workspaceId === run.workspaceId && coversScope(s.tenantIds, run.tenantId),
  );
}

/** `canSee` in SQL over a runs table (or alias). An empty tenant list sees nothing: `false`. */
export function visibleSql(visibility: Visibility, table = 'operation_runs'): RawBuilder<SqlBool> {
  if (visibility.all) return sql<SqlBool>`true`;
  const ref = (column: string) => sql.ref(`${table}.${column}`);
  const scopes = visibility.scopes.map((s) => {
    const workspace = sql<SqlBool>`${ref('workspace_id')} = ${s.workspaceId}`;
    if (s.tenantIds === null) return workspace;
    if (!s.tenantIds.length) return sql<SqlBool>`false`;
    const tenants = sql<SqlBool>`${ref('tenant_id')} in (${sql.join([...s.tenantIds])})`;
    if (!s.fleetParents) return sql<SqlBool>`(${workspace} and ${tenants})`;
    const parent = sql<SqlBool>`(${ref('fleet')} and ${ref('tenant_id')} is null and ${coveredFleet(ref('id'), s.tenantIds)})`;
    return sql<SqlBool>`(${workspace} and (${tenants} or ${parent}))`;
  });
  return anyOf(scopes);
}

/**
 * Whether a row is a fleet's child whose parent the visibility shows too (DESIGN §19): the list
 * shows such a fleet as its parent's one row. Never for a tenant filter (no `fleetParents`).
 */
export function parentVisibleSql(
  visibility: Visibility,
  table = 'operation_runs',
): RawBuilder<SqlBool> {
  const parent = sql.ref(`${table}.parent_id`);
  if (visibility.all) return sql<SqlBool>`${parent} is not null`;
  const scopes = visibility.scopes.map((s) => {
    const child = sql<SqlBool>`(${sql.ref(`${table}.workspace_id`)} = ${s.workspaceId} and ${parent} is not null)`;
    if (s.tenantIds === null) return child;
    if (!s.fleetParents || !s.tenantIds.length) return sql<SqlBool>`false`;
    return sql<SqlBool>`(${child} and ${coveredFleet(parent, s.tenantIds)})`;
  });
  return anyOf(scopes);
}

/** Every child of the fleet `parent` is of one of `tenantIds` (non-empty). */
function coveredFleet(parent: RawBuilder<unknown>, tenantIds: readonly string[]) {
  return sql<SqlBool>`not exists (select 1 from fleet_children fc where fc.parent_id = ${parent}
    and fc.tenant_id not in (${sql.join([...tenantIds])}))`;
}

function anyOf(scopes: RawBuilder<SqlBool>[]): RawBuilder<SqlBool> {
  if (!scopes.length) return sql<SqlBool>`false`;
  return scopes.length === 1
    ? (scopes[0] as RawBuilder<SqlBool>)
    : sql<SqlBool>`(${sql.join(scopes, sql` or `)})`;
}
