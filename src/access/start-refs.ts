import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { isUuid } from '../domain/uuid.js';

/** How a library caller names a run's scope (DESIGN §15): the host's keys or Runwarden's ids. */
export interface StartRefs {
  /** The workspace by slug or id. */
  workspace?: string;
  workspaceId?: string;
  /** The tenant by slug (within the workspace) or id; null/absent for workspace-level types. */
  tenant?: string | null;
  tenantId?: string | null;
  /** The initiator by email or id; null for system runs. */
  initiator?: string | null;
  initiatorUserId?: string | null;
}

/**
 * Both forms of one reference given (`tenant` and `tenantId`, say) must name the same thing: the
 * one that was resolved against the id given beside it.
 */
function agree(fields: [string, string], resolved: string | null, id: string | null | undefined) {
  if (id === undefined || id === null || resolved === null || resolved === id) return;
  throw new RunwardenError(
    'validation_failed',
    `\`${fields[0]}\` and \`${fields[1]}\` name different ${fields[0]}s; give one of them.`,
  );
}

/** Resolves slugs and emails to ids (ids pass through unchecked: the start path checks them). */
export async function resolveStartRefs(
  db: Kysely<Database>,
  refs: StartRefs,
): Promise<{ workspaceId: string; tenantId: string | null; initiatorUserId: string | null }> {
  const resolved = await resolveEach(db, refs);
  const { workspace, tenant, initiator } = refs;
  agree(['workspace', 'workspaceId'], resolved.workspaceId, workspace ? refs.workspaceId : null);
  agree(['tenant', 'tenantId'], resolved.tenantId, tenant ? refs.tenantId : null);
  agree(
    ['initiator', 'initiatorUserId'],
    resolved.initiatorUserId,
    initiator ? refs.initiatorUserId : null,
  );
  return resolved;
}

async function resolveEach(
  db: Kysely<Database>,
  refs: StartRefs,
): Promise<{ workspaceId: string; tenantId: string | null; initiatorUserId: string | null }> {
  const workspaceRef = refs.workspace ?? refs.workspaceId;
  if (!workspaceRef)
    throw new RunwardenError('validation_failed', 'Name the workspace (slug or id).');
  const workspaceId = isUuid(workspaceRef)
    ? workspaceRef
    : (
        await db
          .selectFrom('workspaces')
          .select('id')
          .where('slug', '=', workspaceRef)
          .executeTakeFirst()
      )?.id;
  if (!workspaceId) throw new RunwardenError('not_found', `No workspace ${workspaceRef}.`);

  const tenantRef = refs.tenant ?? refs.tenantId ?? null;
  let tenantId: string | null = tenantRef;
  if (tenantRef && !isUuid(tenantRef)) {
    const tenant = await db
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('slug', '=', tenantRef)
      .executeTakeFirst();
    if (!tenant)
      throw new RunwardenError('not_found', `No tenant ${tenantRef} in ${workspaceRef}.`);
    tenantId = tenant.id;
  }

  const initiatorRef = refs.initiator ?? refs.initiatorUserId ?? null;
  let initiatorUserId: string | null = initiatorRef;
  if (initiatorRef && !isUuid(initiatorRef)) {
    const user = await db
      .selectFrom('users')
      .select('id')
      .where(sql<string>`lower(email)`, '=', initiatorRef.trim().toLowerCase())
      .executeTakeFirst();
    if (!user) throw new RunwardenError('not_found', `No user ${initiatorRef}.`);
    initiatorUserId = user.id;
  }
  return { workspaceId, tenantId, initiatorUserId };
}
