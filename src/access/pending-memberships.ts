import type { Kysely } from 'kysely';
import type { Database, PendingMembershipsTable, Role } from '../db/schema.js';
import { uuidv7 } from '../domain/uuid.js';
import type { MemberView, WorkspaceRef, WriteContext } from './directory-changes.js';
import { INVITE_TTL_MS } from './invites.js';
import { hashSecret, newSecret } from './secrets.js';

/**
 * Pending memberships (DESIGN §10, "tenancy is a boundary"): what a workspace owner offers
 * someone by email. They live apart from `memberships`, so nothing that grants access (the
 * principal, tokens, the gate, streams) can read one. The owner sees only what they typed.
 */

const PREFIX = 'rwm_';

/** Whether a link's token is an offered membership's (the invite page tells the two apart). */
export const isMembershipToken = (token: string) => token.startsWith(PREFIX);

type PendingRow = Pick<
  PendingMembershipsTable,
  'id' | 'email' | 'name' | 'role' | 'tenant_ids' | 'workspace_id'
>;

/** As the member list shows it: the offer's id stands for the user id until it is accepted. */
export function pendingView(row: PendingRow): MemberView {
  return {
    userId: row.id,
    email: row.email,
    name: row.name ?? row.email.split('@')[0] ?? row.email,
    role: row.role,
    tenantIds: row.tenant_ids,
    disabled: false,
    pending: true,
  };
}

export interface Offer {
  email: string;
  name?: string | undefined;
  role: Role;
  /** undefined: unchanged (every tenant when new). */
  tenantIds: string[] | null | undefined;
}

/** Offers `ws` membership to an email, or changes the offer; a new offer comes with its token. */
export async function offerMembership(
  ctx: WriteContext,
  ws: WorkspaceRef,
  offer: Offer,
): Promise<{ member: MemberView; token?: { token: string; expiresAt: Date } }> {
  const key = `${ws.slug}/${offer.email}`;
  const existing = await ctx.trx
    .selectFrom('pending_memberships')
    .select(['id', 'email', 'name', 'role', 'tenant_ids', 'workspace_id'])
    .where('workspace_id', '=', ws.id)
    .where('email', '=', offer.email)
    .executeTakeFirst();
  if (!existing) {
    const { secret: token, hash } = newSecret(PREFIX);
    const expiresAt = new Date(ctx.now.getTime() + INVITE_TTL_MS);
    const row = {
      id: uuidv7(),
      workspace_id: ws.id,
      email: offer.email,
      name: offer.name ?? null,
      role: offer.role,
      tenant_ids: offer.tenantIds ?? null,
    };
    await ctx.trx
      .insertInto('pending_memberships')
      .values({
        ...row,
        token_hash: hash,
        created_at: ctx.now,
        expires_at: expiresAt,
      })
      .execute();
    await ctx.record(
      ws.id,
      { action: 'created', kind: 'invitation', key, id: row.id },
      { role: row.role, tenantIds: row.tenant_ids },
    );
    return { member: pendingView(row), token: { token, expiresAt } };
  }
  const next = {
    name: offer.name ?? existing.name,
    role: offer.role,
    tenant_ids: offer.tenantIds === undefined ? existing.tenant_ids : offer.tenantIds,
  };
  const diff: Record<string, unknown> = {};
  if (existing.role !== next.role) diff.role = { from: existing.role, to: next.role };
  if (JSON.stringify(existing.tenant_ids) !== JSON.stringify(next.tenant_ids))
    diff.tenantIds = { from: existing.tenant_ids, to: next.tenant_ids };
  if (existing.name !== next.name) diff.name = 'changed';
  if (Object.keys(diff).length) {
    await ctx.trx
      .updateTable('pending_memberships')
      .set(next)
      .where('id', '=', existing.id)
      .execute();
    await ctx.record(ws.id, { action: 'changed', kind: 'invitation', key, id: existing.id }, diff);
  }
  return { member: pendingView({ ...existing, ...next }) };
}

/** Withdraws the offer (by its id or its email); false when there is none. */
export async function withdrawOffer(
  ctx: WriteContext,
  ws: WorkspaceRef,
  ref: { id: string } | { email: string },
  reason: 'withdrawn' | 'superseded' | 'accepted' = 'withdrawn',
): Promise<boolean> {
  const gone = await ctx.trx
    .deleteFrom('pending_memberships')
    .where('workspace_id', '=', ws.id)
    .$if('id' in ref, (q) => q.where('id', '=', (ref as { id: string }).id))
    .$if('email' in ref, (q) => q.where('email', '=', (ref as { email: string }).email))
    .returning(['id', 'email'])
    .executeTakeFirst();
  if (!gone) return false;
  await ctx.record(
    ws.id,
    {
      action: reason === 'accepted' ? 'accepted' : 'removed',
      kind: 'invitation',
      key: `${ws.slug}/${gone.email}`,
      id: gone.id,
    },
    reason === 'superseded' ? { superseded: true } : {},
  );
  return true;
}

/** The live offer a link's token names (one indexed read), or undefined. */
export async function findOffer(db: Kysely<Database>, token: string, now: Date) {
  return await db
    .selectFrom('pending_memberships')
    .select(['id', 'workspace_id', 'email', 'name', 'role', 'tenant_ids'])
    .where('token_hash', '=', hashSecret(token))
    .where('expires_at', '>', now)
    .executeTakeFirst();
}
