import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import type { RoleName } from '../domain/capabilities.js';
import type { ReasonCode } from '../domain/reason-codes.js';
import { mayStart, mayStartSql } from '../domain/start-rights.js';

export type GateVerdict =
  | { pass: true }
  | { pass: false; outcome: 'blocked' | 'cancelled'; code: ReasonCode; message: string }
  /** Paused (DESIGN §17): back to waiting for admission, not ended. */
  | { pass: false; hold: { reason: 'paused'; message: string } };

/**
 * The legitimacy gate (DESIGN §7.2), checked before every attempt: the run is still active and
 * not cancel-requested, its tenant is active, and its initiator (if any) is an enabled user who
 * may still start it (`mayStart`: role, and a restriction that covers the run's scope).
 * `undefined` run means it no longer exists: nothing to do.
 */
export async function checkGate(db: Kysely<Database>, run: RunRow): Promise<GateVerdict> {
  if (run.cancel_requested_at) {
    return {
      pass: false,
      outcome: 'cancelled',
      code: 'run.cancelled',
      message: 'Cancelled before it started.',
    };
  }
  if (run.expires_at && run.expires_at.getTime() <= Date.now()) {
    return {
      pass: false,
      outcome: 'cancelled',
      code: 'run.expired',
      message: 'It expired before it could start.',
    };
  }
  if (await pausedNow(db, run)) {
    return {
      pass: false,
      hold: {
        reason: 'paused',
        message: 'Paused before it started: it waits until the pause is lifted.',
      },
    };
  }
  if (run.tenant_id) {
    const tenant = await db
      .selectFrom('tenants')
      .select('status')
      .where('id', '=', run.tenant_id)
      .executeTakeFirst();
    if (tenant?.status !== 'active') {
      return {
        pass: false,
        outcome: 'blocked',
        code: 'gate.tenant_inactive',
        message: 'The tenant is inactive, so the operation was not run.',
      };
    }
  }
  if (
    (run.initiator_user_id && !(await initiatorMayStart(db, run))) ||
    (run.initiator_token_id && !(await serviceTokenLive(db, run.initiator_token_id)))
  ) {
    return {
      pass: false,
      outcome: 'blocked',
      code: 'gate.initiator_unauthorized',
      message: run.initiator_token_id
        ? 'The service token that started this operation was revoked, so it was not run.'
        : 'The person who started this operation may no longer start it, so it was not run.',
    };
  }
  return { pass: true };
}

/** A pause of the run's type, tenant, or type × tenant in its workspace (DESIGN §17). */
function pauseOf(run: {
  workspace: RawBuilder<unknown>;
  type: RawBuilder<unknown>;
  tenant: RawBuilder<unknown>;
}) {
  return sql`flow_pauses p where p.workspace_id = ${run.workspace}
    and (p.type is null or p.type = ${run.type})
    and (p.tenant_id is null or p.tenant_id = ${run.tenant})`;
}

async function pausedNow(db: Kysely<Database>, run: RunRow): Promise<boolean> {
  const { rows } = await sql`select 1 from ${pauseOf({
    workspace: sql.val(run.workspace_id),
    type: sql.val(run.type),
    tenant: sql.val(run.tenant_id),
  })} limit 1`.execute(db);
  return rows.length > 0;
}

/**
 * The initiator's membership in the run's workspace while it stands: an enabled user's. Both
 * forms of the gate read it here, so a further condition on memberships is one line.
 */
function standingMembership(user: RawBuilder<unknown>, workspace: RawBuilder<unknown>) {
  return sql`memberships m join users u on u.id = m.user_id
    where m.user_id = ${user} and m.workspace_id = ${workspace} and u.disabled_at is null`;
}

async function initiatorMayStart(db: Kysely<Database>, run: RunRow): Promise<boolean> {
  if (!run.initiator_user_id) return true;
  const { rows } = await sql<{ role: RoleName; tenant_ids: string[] | null }>`
    select m.role, m.tenant_ids
    from ${standingMembership(sql.val(run.initiator_user_id), sql.val(run.workspace_id))}`.execute(
    db,
  );
  const grant = rows[0];
  return (
    grant !== undefined &&
    mayStart({ role: grant.role, tenantIds: grant.tenant_ids }, { tenantId: run.tenant_id })
  );
}

/** A service token's run (DESIGN §10) runs while the token is not revoked. */
async function serviceTokenLive(db: Kysely<Database>, tokenId: string): Promise<boolean> {
  const token = await db
    .selectFrom('api_tokens')
    .select('id')
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return token !== undefined;
}

/**
 * The gate as a condition on the `operation_runs` row, for the worker's one-statement start (gate
 * and `running` together): true exactly when checkGate passes (markRunning itself requires no
 * cancel request). When it is false the worker reads the run and asks checkGate for the verdict
 * and its reason, so the two forms must stay equivalent: change them together.
 */
export function gatePasses() {
  return sql<boolean>`(operation_runs.expires_at is null or operation_runs.expires_at > now())
    and not exists (select 1 from ${pauseOf({
      workspace: sql.ref('operation_runs.workspace_id'),
      type: sql.ref('operation_runs.type'),
      tenant: sql.ref('operation_runs.tenant_id'),
    })})
    and (operation_runs.tenant_id is null or exists (
      select 1 from tenants t where t.id = operation_runs.tenant_id and t.status = 'active'))
    and (operation_runs.initiator_user_id is null or exists (
      select 1 from ${standingMembership(
        sql.ref('operation_runs.initiator_user_id'),
        sql.ref('operation_runs.workspace_id'),
      )} and ${mayStartSql('m', 'operation_runs')}))
    and (operation_runs.initiator_token_id is null or exists (
      select 1 from api_tokens k
      where k.id = operation_runs.initiator_token_id and k.revoked_at is null))`;
}
