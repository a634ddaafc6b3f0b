import type { Role, UserRow } from '../db/schema.js';
import { uuidv7 } from '../domain/uuid.js';
import type { WorkspaceRef, WriteContext } from './directory-changes.js';
import { revokeTokens } from './user-writes.js';

export interface MemberChange {
  role: Role;
  tenantIds: string[] | null | undefined;
}

export interface MemberWritten {
  role: Role;
  tenantIds: string[] | null;
  outcome: 'created' | 'changed' | 'unchanged';
}

export async function upsertMember(
  ctx: WriteContext,
  ws: WorkspaceRef,
  user: UserRow,
  input: MemberChange,
): Promise<MemberWritten> {
  const key = `${ws.slug}/${user.email}`;
  const existing = await ctx.trx
    .selectFrom('memberships')
    .select(['id', 'role', 'tenant_ids'])
    .where('workspace_id', '=', ws.id)
    .where('user_id', '=', user.id)
    .executeTakeFirst();
  if (!existing) {
    const tenantIds = input.tenantIds ?? null;
    const id = uuidv7();
    await ctx.trx
      .insertInto('memberships')
      .values({
        id,
        workspace_id: ws.id,
        user_id: user.id,
        role: input.role,
        tenant_ids: tenantIds,
      })
      .execute();
    await ctx.record(
      ws.id,
      { action: 'created', kind: 'member', key, id: user.id },
      {
        role: input.role,
        tenantIds,
      },
    );
    return { role: input.role, tenantIds, outcome: 'created' };
  }
  const tenantIds = input.tenantIds === undefined ? existing.tenant_ids : input.tenantIds;
  const before = existing.tenant_ids ? [...existing.tenant_ids].sort() : null;
  const diff: Record<string, unknown> = {};
  if (existing.role !== input.role) diff.role = { from: existing.role, to: input.role };
  if (JSON.stringify(before) !== JSON.stringify(tenantIds))
    diff.tenantIds = { from: existing.tenant_ids, to: tenantIds };
  if (!Object.keys(diff).length)
    return { role: existing.role, tenantIds: before, outcome: 'unchanged' };
  // An owner restricted to some tenants cannot manage the workspace (DESIGN §10): losing the
  // role or gaining a restriction both lose an owner who can.
  const couldManage = existing.role === 'owner' && existing.tenant_ids === null;
  if (couldManage && (input.role !== 'owner' || tenantIds !== null)) ctx.ownerLost(ws.id, ws.slug);
  await ctx.trx
    .updateTable('memberships')
    .set({ role: input.role, tenant_ids: tenantIds })
    .where('id', '=', existing.id)
    .execute();
  await ctx.record(ws.id, { action: 'changed', kind: 'member', key, id: user.id }, diff);
  return { role: input.role, tenantIds, outcome: 'changed' };
}

/**
 * Removes the membership and revokes the tokens they created here. Their sessions stay: the next
 * request finds no membership here (404), and their other workspaces are untouched (DESIGN §10).
 */
export async function removeMember(
  ctx: WriteContext,
  ws: WorkspaceRef,
  user: { id: string; email: string },
  options: { pruned?: boolean } = {},
): Promise<boolean> {
  const removed = await ctx.trx
    .deleteFrom('memberships')
    .where('workspace_id', '=', ws.id)
    .where('user_id', '=', user.id)
    .returning(['role', 'tenant_ids'])
    .executeTakeFirst();
  if (!removed) return false;
  if (removed.role === 'owner' && removed.tenant_ids === null) ctx.ownerLost(ws.id, ws.slug);
  const ended = await revokeTokens(ctx, user.id, ws.id);
  await ctx.record(
    ws.id,
    {
      action: 'removed',
      kind: 'member',
      key: `${ws.slug}/${user.email}`,
      id: user.id,
      ...(options.pruned ? { pruned: true } : {}),
    },
    { role: removed.role, ...ended },
  );
  return true;
}
