import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { ROLES, type RoleName, roleCan } from './capabilities.js';
import { coversScope } from './visibility.js';

/**
 * Who may start (or reuse) a run, defined ONCE (DESIGN §10): the HTTP start (src/access/authorize)
 * and the execution gate (src/execution/gate) both ask this, the gate also in SQL, side by side.
 * test/execution/gate.test.ts checks the two forms agree on every role, restriction and scope.
 */

/** A membership as far as starting goes: its role and tenant restriction (null: every tenant). */
export interface StartGrant {
  role: RoleName;
  tenantIds: readonly string[] | null;
}

/** Why a member may not start a run of this scope: not entitled to it (404), or the role (403). */
export type StartDenial = 'scope' | 'role';

export function startDenial(
  grant: StartGrant,
  run: { tenantId: string | null },
): StartDenial | undefined {
  if (!coversScope(grant.tenantIds, run.tenantId)) return 'scope';
  if (!roleCan(grant.role, 'operations.start')) return 'role';
  return undefined;
}

export function mayStart(grant: StartGrant, run: { tenantId: string | null }): boolean {
  return startDenial(grant, run) === undefined;
}

const START_ROLES = ROLES.filter((role) => roleCan(role, 'operations.start'));

/** `mayStart` in SQL, over a memberships alias and a runs alias. */
export function mayStartSql(membership: string, run: string): RawBuilder<SqlBool> {
  const tenantIds = sql.ref(`${membership}.tenant_ids`);
  const tenantId = sql.ref(`${run}.tenant_id`);
  return sql<SqlBool>`(${sql.ref(`${membership}.role`)} = any(${START_ROLES}::text[])
    and (${tenantIds} is null or (${tenantId} is not null and ${tenantId} = any(${tenantIds}))))`;
}
