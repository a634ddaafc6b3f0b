import { sql } from 'kysely';
import type { Role, UserRow } from '../db/schema.js';
import type { Invite, MemberView } from './directory-changes.js';
import type { MemberInput } from './directory-input.js';
import type { DirectoryWriter } from './directory-writer.js';

export type { MemberView } from './directory-changes.js';

export async function upsertMemberWith(
  w: DirectoryWriter,
  input: ReturnType<typeof MemberInput.parse>,
): Promise<{ member: MemberView; invite?: Invite }> {
  const ws = await w.findWorkspace(input.workspace);
  const tenantIds =
    input.tenantIds !== undefined
      ? await w.tenantIdsById(ws, input.tenantIds)
      : input.tenants === undefined
        ? undefined
        : await w.tenantIds(ws, input.tenants);
  const invitesBefore = w.invites.length;
  const { user } = await w.user(input);
  const m = await w.member(ws, user, { role: input.role, tenantIds });
  // The host's directory is authoritative: a membership it writes supersedes an owner's offer.
  await w.withdrawOffer(ws, { email: input.email }, 'superseded');
  const invite = w.invites[invitesBefore];
  return { member: memberView(user, m), ...(invite ? { invite } : {}) };
}

/**
 * A workspace owner adds someone by email (DESIGN §10, "tenancy is a boundary"): a member of
 * THIS workspace gets the role and tenants (nothing of their account changes); anyone else is
 * offered a pending membership, answered alike whether or not the email has an account.
 */
export async function offerMemberWith(
  w: DirectoryWriter,
  input: ReturnType<typeof MemberInput.parse>,
): Promise<{ member: MemberView; invite?: Invite; offered: boolean }> {
  const ws = await w.findWorkspace(input.workspace);
  const tenantIds =
    input.tenantIds !== undefined
      ? await w.tenantIdsById(ws, input.tenantIds)
      : input.tenants === undefined
        ? undefined
        : await w.tenantIds(ws, input.tenants);
  const user = await w.db
    .selectFrom('users')
    .innerJoin('memberships', 'memberships.user_id', 'users.id')
    .selectAll('users')
    .where('memberships.workspace_id', '=', ws.id)
    .where(sql<string>`lower(users.email)`, '=', input.email)
    .executeTakeFirst();
  if (user) {
    const m = await w.member(ws, user, { role: input.role, tenantIds }, { offered: true });
    return { member: memberView(user, m), offered: false };
  }
  const { created, ...offer } = await w.offer(ws, {
    email: input.email,
    name: input.name,
    role: input.role,
    tenantIds,
  });
  return { ...offer, offered: created };
}

function memberView(user: UserRow, m: { role: Role; tenantIds: string[] | null }): MemberView {
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: m.role,
    tenantIds: m.tenantIds,
    disabled: user.disabled_at !== null,
    pending: false,
  };
}
