import { sql } from 'kysely';
import type { UserRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { uuidv7 } from '../domain/uuid.js';
import type { Invite, WriteContext } from './directory-changes.js';
import { hashPassword } from './passwords.js';
import { endPersonAccess } from './person-access.js';

/** The user with that email (or external id), created when new: a new user without a password gets an invite. */
export async function upsertUser(
  ctx: WriteContext,
  input: {
    email: string;
    name?: string | undefined;
    externalId?: string | undefined;
    password?: string | undefined;
    /** A password hashed already (outside the directory's lock). */
    passwordHash?: string | undefined;
    /** false: no set-password link for a new user (one who signs in through the host or SSO). */
    invite?: boolean;
  },
): Promise<{ user: UserRow; created: boolean }> {
  const byExternal = input.externalId
    ? await ctx.trx
        .selectFrom('users')
        .selectAll()
        .where('external_id', '=', input.externalId)
        .executeTakeFirst()
    : undefined;
  const byEmail = await ctx.trx
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', input.email)
    .executeTakeFirst();
  if (byExternal && byEmail && byExternal.id !== byEmail.id)
    throw new RunwardenError(
      'conflict',
      `${input.email} belongs to another user than external id ${input.externalId}.`,
    );
  if (byEmail?.external_id && input.externalId && byEmail.external_id !== input.externalId)
    throw new RunwardenError(
      'conflict',
      `${input.email} already has another external id (${byEmail.external_id}).`,
    );
  const existing = byExternal ?? byEmail;
  const passwordHash =
    input.passwordHash ?? (input.password ? await hashPassword(input.password) : undefined);
  if (!existing) {
    const row = {
      id: uuidv7(),
      email: input.email,
      name: input.name ?? input.email.split('@')[0] ?? input.email,
      password_hash: passwordHash ?? null,
      password_origin: passwordHash ? ('admin' as const) : null,
      external_id: input.externalId ?? null,
    };
    await ctx.trx.insertInto('users').values(row).execute();
    await ctx.record(
      null,
      { action: 'created', kind: 'user', key: row.email, id: row.id },
      {
        name: row.name,
        ...(row.external_id ? { externalId: row.external_id } : {}),
        invited: !passwordHash && input.invite !== false,
      },
    );
    if (!passwordHash && input.invite !== false) await ctx.invite(row.id, row.email);
    const user = await ctx.trx
      .selectFrom('users')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    return { user, created: true };
  }
  const diff: Record<string, unknown> = {};
  if (existing.email !== input.email) diff.email = { from: existing.email, to: input.email };
  if (input.name !== undefined && existing.name !== input.name)
    diff.name = { from: existing.name, to: input.name };
  if (input.externalId !== undefined && existing.external_id !== input.externalId)
    diff.externalId = { from: existing.external_id, to: input.externalId };
  if (passwordHash) diff.password = 'set';
  if (!Object.keys(diff).length) return { user: existing, created: false };
  const user = await ctx.trx
    .updateTable('users')
    .set({
      email: input.email,
      name: input.name ?? existing.name,
      external_id: input.externalId ?? existing.external_id,
      ...(passwordHash ? { password_hash: passwordHash, password_origin: 'admin' as const } : {}),
    })
    .where('id', '=', existing.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.record(null, { action: 'changed', kind: 'user', key: user.email, id: user.id }, diff);
  return { user, created: false };
}

export async function disableUser(ctx: WriteContext, user: UserRow): Promise<boolean> {
  if (user.disabled_at) return false;
  await ctx.trx
    .updateTable('users')
    .set({ disabled_at: ctx.now, password_hash: null })
    .where('id', '=', user.id)
    .execute();
  await ctx.trx.deleteFrom('invites').where('user_id', '=', user.id).execute();
  const ended = await endAccess(ctx, user.id);
  await ctx.record(null, { action: 'disabled', kind: 'user', key: user.email, id: user.id }, ended);
  return true;
}

/** Re-enables a disabled user; they set a new password through the invite this returns. */
export async function enableUser(ctx: WriteContext, user: UserRow): Promise<Invite | undefined> {
  if (!user.disabled_at) return undefined;
  await ctx.trx.updateTable('users').set({ disabled_at: null }).where('id', '=', user.id).execute();
  await ctx.record(
    null,
    { action: 'changed', kind: 'user', key: user.email, id: user.id },
    {
      disabled: { from: true, to: false },
    },
  );
  return await ctx.invite(user.id, user.email);
}

export async function setPlatformStaff(
  ctx: WriteContext,
  user: UserRow,
  capabilities: string[],
  options: { pruned?: boolean } = {},
) {
  const next = [...new Set(capabilities)].sort();
  const before = [...user.platform_capabilities].sort();
  if (JSON.stringify(next) === JSON.stringify(before)) return false;
  // Platform rights are the directory vouching for the person, as a membership is.
  if (next.some((c) => !before.includes(c))) await vouchFor(ctx, user);
  await ctx.trx
    .updateTable('users')
    .set({ platform_capabilities: next })
    .where('id', '=', user.id)
    .execute();
  await ctx.record(
    null,
    {
      action: !before.length ? 'created' : next.length ? 'changed' : 'removed',
      kind: 'platform_staff',
      key: user.email,
      id: user.id,
      ...(options.pruned ? { pruned: true } : {}),
    },
    { capabilities: { from: before, to: next } },
  );
  return true;
}

/**
 * The host's directory vouches for an account (it writes the account a membership or platform
 * rights; DESIGN §10). A password chosen through a workspace owner's offer link (origin 'offer')
 * may be that owner's, who made the account by accepting their own offer before its person ever
 * came: it is revoked with everything it opened (every session, every person token the account
 * created), and the person gets a fresh set-password link, returned to the caller as for a new
 * person (none where people sign in elsewhere). Any other account is left as it is.
 */
export async function vouchFor(
  ctx: WriteContext,
  user: Pick<UserRow, 'id' | 'email' | 'password_origin'>,
): Promise<void> {
  if (user.password_origin !== 'offer') return;
  const revoked = await ctx.trx
    .updateTable('users')
    .set({ password_hash: null, password_origin: null })
    .where('id', '=', user.id)
    .where('password_origin', '=', 'offer')
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  if (!revoked.numUpdatedRows) return; // revoked earlier in this transaction, or disabled
  const ended = await endAccess(ctx, user.id);
  await ctx.record(
    null,
    { action: 'changed', kind: 'user', key: user.email, id: user.id },
    {
      password: 'revoked',
      reason: "set through a workspace owner's offer link; the directory vouched for the email",
      ...ended,
    },
  );
  if (ctx.links) await ctx.invite(user.id, user.email);
}

/** Ends every session of the user and revokes every live token they created (disabling them). */
export async function endAccess(ctx: WriteContext, userId: string) {
  return await endPersonAccess(ctx.trx, userId, ctx.now);
}

/**
 * Revokes the live tokens the user created (in one workspace, or all). Leaving a workspace ends
 * no session: access is re-checked per request, and their other workspaces are not its business.
 */
export async function revokeTokens(ctx: WriteContext, userId: string, workspaceId: string | null) {
  const tokens = await ctx.trx
    .updateTable('api_tokens')
    .set({ revoked_at: ctx.now })
    .where('created_by', '=', userId)
    .where('revoked_at', 'is', null)
    .$if(workspaceId !== null, (q) => q.where('workspace_id', '=', workspaceId as string))
    .returning('id')
    .execute();
  return { tokensRevoked: tokens.map((t) => t.id) };
}
