import type { Role } from '../db/schema.js';
import type { Invite } from './directory-changes.js';
import type { MemberInput } from './directory-input.js';
import type { DirectoryWriter } from './directory-writer.js';

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  tenantIds: string[] | null;
  disabled: boolean;
}

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
  const invite = w.invites[invitesBefore];
  return {
    member: {
      userId: user.id,
      email: user.email,
      name: user.name,
      role: m.role,
      tenantIds: m.tenantIds,
      disabled: user.disabled_at !== null,
    },
    ...(invite ? { invite } : {}),
  };
}
