import type { Kysely } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { type RoleName, roleCan } from '../domain/capabilities.js';
import type { ReasonCode } from '../domain/reason-codes.js';

export type GateVerdict =
  | { pass: true }
  | { pass: false; outcome: 'blocked' | 'cancelled'; code: ReasonCode; message: string };

/**
 * The legitimacy gate (DESIGN §7.2), checked before every attempt: the run is still active and
 * not cancel-requested, its tenant is active, and its initiator (if any) may still start it.
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
  if (run.initiator_user_id && !(await initiatorMayStart(db, run))) {
    return {
      pass: false,
      outcome: 'blocked',
      code: 'gate.initiator_unauthorized',
      message: 'The person who started this operation may no longer start it, so it was not run.',
    };
  }
  return { pass: true };
}

async function initiatorMayStart(db: Kysely<Database>, run: RunRow): Promise<boolean> {
  if (!run.initiator_user_id) return true;
  const membership = await db
    .selectFrom('memberships')
    .select(['role', 'tenant_ids'])
    .where('workspace_id', '=', run.workspace_id)
    .where('user_id', '=', run.initiator_user_id)
    .executeTakeFirst();
  if (!membership || !roleCan(membership.role as RoleName, 'operations.start')) return false;
  if (run.tenant_id && membership.tenant_ids && !membership.tenant_ids.includes(run.tenant_id))
    return false;
  return true;
}
