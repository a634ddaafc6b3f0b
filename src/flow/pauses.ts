import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { uuidv7 } from '../domain/uuid.js';
import { type AuditEntry, recordAudit } from '../runs/audit.js';
import { wakeAdmitters } from './lanes.js';

// Pauses (DESIGN §17): the one writer of `flow_pauses`. A pause holds every run of its scope in a
// workspace — a type, a tenant, a type × tenant, or (neither) the whole workspace — at admission
// and at the gate; running runs finish. Each change is audited and wakes the admitters in its
// own transaction, so every worker sees it as soon as it commits.

export interface PauseScope {
  workspaceId: string;
  type: string | null;
  tenantId: string | null;
}

export interface Pause extends PauseScope {
  id: string;
  /** The person who paused; null for the CLI, a service token or a deleted user. */
  createdBy: string | null;
  createdByName: string | null;
  createdAt: Date;
}

export interface PauseCall {
  actor: AuditEntry['actor'];
  /** Where the change came from, for the audit log. */
  source: 'http' | 'cli' | 'library';
}

function selectPauses(db: Kysely<Database>) {
  return db
    .selectFrom('flow_pauses as p')
    .leftJoin('users as u', 'u.id', 'p.created_by')
    .select([
      'p.id',
      'p.workspace_id as workspaceId',
      'p.type',
      'p.tenant_id as tenantId',
      'p.created_by as createdBy',
      'u.name as createdByName',
      'p.created_at as createdAt',
    ]);
}

/** Where a scope's pause is written in the unique index: null as '' / the nil uuid. */
const sameScope = (scope: PauseScope) =>
  sql<boolean>`p.workspace_id = ${scope.workspaceId}
    and p.type is not distinct from ${scope.type}
    and p.tenant_id is not distinct from ${scope.tenantId}::uuid`;

/** What a pause's scope reads as in a message: `type inventory.sync for tenant …`. */
export function describeScope(scope: { type: string | null; tenant?: string | null }): string {
  const parts = [
    scope.type ? `type ${scope.type}` : null,
    scope.tenant ? `tenant ${scope.tenant}` : null,
  ].filter((p) => p !== null);
  return parts.length ? parts.join(' for ') : 'the whole workspace';
}

/**
 * Pauses a scope. `types`: the catalog's (another type is `unknown_type`; an external one, whose
 * runs run elsewhere, `invalid_input`); the tenant must be the workspace's (`not_found`). A scope
 * already paused is a `conflict` naming that pause (`details.pause`).
 */
export async function createPause(
  db: Kysely<Database>,
  scope: PauseScope,
  call: PauseCall & { types: ReadonlyArray<{ type: string; execution: 'queue' | 'external' }> },
): Promise<Pause> {
  if (scope.type !== null) {
    const known = call.types.find((t) => t.type === scope.type);
    if (!known)
      throw new RunwardenError('unknown_type', `there is no operation type "${scope.type}"`, {
        details: { type: scope.type },
      });
    if (known.execution === 'external')
      throw new RunwardenError(
        'invalid_input',
        `${scope.type} runs elsewhere (external): pauses apply to queue types`,
      );
  }
  return await db.transaction().execute(async (trx) => {
    if (scope.tenantId !== null) {
      const tenant = await trx
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', scope.tenantId)
        .where('workspace_id', '=', scope.workspaceId)
        .executeTakeFirst();
      if (!tenant) throw new RunwardenError('not_found', 'No such tenant.');
    }
    const id = uuidv7();
    const inserted = await trx
      .insertInto('flow_pauses')
      .values({
        id,
        workspace_id: scope.workspaceId,
        type: scope.type,
        tenant_id: scope.tenantId,
        created_by: call.actor.userId,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const existing = await selectPauses(trx).where(sameScope(scope)).executeTakeFirst();
      throw new RunwardenError('conflict', `${describeScope(scope)} is already paused.`, {
        details: { pause: existing ? pauseJson(existing) : null },
      });
    }
    await recordAudit(trx, {
      actor: call.actor,
      action: 'flow.paused',
      workspaceId: scope.workspaceId,
      target: { type: 'pause', id },
      details: { type: scope.type, tenantId: scope.tenantId, source: call.source },
    });
    // The waiting copy says "paused" at the next admission pass.
    await wakeAdmitters(trx);
    return await selectPauses(trx).where('p.id', '=', id).executeTakeFirstOrThrow();
  });
}

/**
 * A workspace's pauses, oldest first. `visibleTenants`: a tenant-restricted caller's tenants (they
 * see the pauses of those tenants and the workspace-wide ones); null: every pause.
 */
export async function listPauses(
  db: Kysely<Database>,
  workspaceId: string,
  visibleTenants: readonly string[] | null = null,
): Promise<Pause[]> {
  let query = selectPauses(db)
    .where('p.workspace_id', '=', workspaceId)
    .orderBy('p.created_at')
    .orderBy('p.id');
  if (visibleTenants !== null)
    query = query.where((eb) =>
      eb.or([
        eb('p.tenant_id', 'is', null),
        ...(visibleTenants.length ? [eb('p.tenant_id', 'in', visibleTenants)] : []),
      ]),
    );
  return await query.execute();
}

/** One pause of a workspace, by id or by its exact scope. */
export async function findPause(
  db: Kysely<Database>,
  ref: { workspaceId: string; id: string } | PauseScope,
): Promise<Pause | undefined> {
  const query = selectPauses(db);
  return await ('id' in ref
    ? query.where('p.id', '=', ref.id).where('p.workspace_id', '=', ref.workspaceId)
    : query.where(sameScope(ref))
  ).executeTakeFirst();
}

/**
 * Lifts a pause of a workspace: its runs wait for admission again as if never paused, and the
 * admitters are woken in the same transaction. Undefined when there was no such pause.
 */
export async function liftPause(
  db: Kysely<Database>,
  ref: { workspaceId: string; id: string },
  call: PauseCall,
): Promise<Pause | undefined> {
  return await db.transaction().execute(async (trx) => {
    const pause = await findPause(trx, ref);
    if (!pause) return undefined;
    const deleted = await trx
      .deleteFrom('flow_pauses')
      .where('id', '=', pause.id)
      .returning('id')
      .executeTakeFirst();
    if (!deleted) return undefined; // lifted by someone else meanwhile
    await recordAudit(trx, {
      actor: call.actor,
      action: 'flow.resumed',
      workspaceId: pause.workspaceId,
      target: { type: 'pause', id: pause.id },
      details: {
        type: pause.type,
        tenantId: pause.tenantId,
        pausedAt: pause.createdAt.toISOString(),
        source: call.source,
      },
    });
    await wakeAdmitters(trx);
    return pause;
  });
}

/** A pause as the API answers it. */
export function pauseJson(pause: Pause) {
  return {
    id: pause.id,
    type: pause.type,
    tenantId: pause.tenantId,
    createdBy: pause.createdBy,
    createdByName: pause.createdByName,
    createdAt: pause.createdAt.toISOString(),
  };
}
