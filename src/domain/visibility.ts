import { type RawBuilder, type SqlBool, sql } from 'kysely';

/** One workspace a caller may see: every run of it (`tenantIds` null), or only these tenants'. */
export interface VisibleScope {
  workspaceId: string;
  /** null: every run of the workspace; otherwise only runs of these tenants (no workspace runs). */
  tenantIds: readonly string[] | null;
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
          .map((s) => `${s.workspaceId}:${s.tenantIds ? [...s.tenantIds].sort().join(',') : '*'}`)
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
  const workspace = sql.ref(`${table}.workspace_id`);
  const tenant = sql.ref(`${table}.tenant_id`);
  const scopes = visibility.scopes.map((s) => {
    if (s.tenantIds === null) return sql<SqlBool>`${workspace} = ${s.workspaceId}`;
    if (!s.tenantIds.length) return sql<SqlBool>`false`;
    return sql<SqlBool>`(${workspace} = ${s.workspaceId} and ${tenant} in (${sql.join([...s.tenantIds])}))`;
  });
  if (!scopes.length) return sql<SqlBool>`false`;
  return scopes.length === 1
    ? (scopes[0] as RawBuilder<SqlBool>)
    : sql<SqlBool>`(${sql.join(scopes, sql` or `)})`;
}
