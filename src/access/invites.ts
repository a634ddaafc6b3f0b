import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { recordAudit } from '../runs/audit.js';
import { announceDirectoryChange } from './directory-announce.js';
import { hashPassword } from './passwords.js';
import { endPersonAccess } from './person-access.js';
import { hashSecret, newSecret } from './secrets.js';

/** How long a set-password link works (DESIGN §11). */
export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
const PREFIX = 'rwi_';

/** The public URL invite links are built from: RUNWARDEN_PUBLIC_URL, else the local default. */
export function defaultPublicUrl(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.RUNWARDEN_PUBLIC_URL?.trim();
  return value ? value : `http://localhost:${env.PORT?.trim() || '3000'}`;
}

export function inviteUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/invite/${token}`;
}

/** A new one-time set-password token for `userId`; only its hash is stored, the caller shows it once. */
export async function issueInvite(
  db: Kysely<Database>,
  userId: string,
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const { secret: token, hash } = newSecret(PREFIX);
  const expiresAt = new Date(now.getTime() + INVITE_TTL_MS);
  await db
    .insertInto('invites')
    .values({
      token_hash: hash,
      user_id: userId,
      created_at: now,
      expires_at: expiresAt,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * Sets the password of the invite's user and spends the invite (and every other one of that user),
 * in one transaction; an unknown, used or expired token, or a disabled user, changes nothing. The
 * invite is looked up before the password is hashed, so a made-up token costs one indexed read.
 * The password counts as set through an invite: whoever held the link, maybe not the email's owner.
 * Whoever knew the account's previous password (maybe not its owner: a pre-hijacker) loses what it
 * opened in the same transaction: every session ends, every person token the account created is
 * revoked, and open streams hear it on the directory channel.
 */
export async function redeemInvite(
  db: Kysely<Database>,
  token: string,
  newPassword: string,
  now = new Date(),
): Promise<{ userId: string }> {
  if (newPassword.length < 8 || newPassword.length > 1000)
    throw new RunwardenError('validation_failed', 'A password has 8 to 1000 characters.');
  const pending = await db
    .selectFrom('invites')
    .innerJoin('users', 'users.id', 'invites.user_id')
    .select('invites.user_id')
    .where('invites.token_hash', '=', hashSecret(token))
    .where('invites.used_at', 'is', null)
    .where('invites.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!pending) throw new RunwardenError('invite_invalid');
  const hash = await hashPassword(newPassword);
  return await db.transaction().execute(async (trx) => {
    const invite = await trx
      .updateTable('invites')
      .set({ used_at: now })
      .where('token_hash', '=', hashSecret(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('users')
            .select('users.id')
            .whereRef('users.id', '=', 'invites.user_id')
            .where('users.disabled_at', 'is', null),
        ),
      )
      .returning('user_id')
      .executeTakeFirst();
    if (!invite) throw new RunwardenError('invite_invalid');
    await trx
      .updateTable('users')
      .set({ password_hash: hash, password_origin: 'invite' })
      .where('id', '=', invite.user_id)
      .execute();
    await trx
      .updateTable('invites')
      .set({ used_at: now })
      .where('user_id', '=', invite.user_id)
      .where('used_at', 'is', null)
      .execute();
    const ended = await endPersonAccess(trx, invite.user_id, now);
    await recordAudit(trx, {
      actor: { userId: invite.user_id, kind: 'user' },
      action: 'invite.redeem',
      target: { type: 'user', id: invite.user_id },
      details: {
        ...ended,
        reason: 'whoever knew the previous password may have opened these sessions and tokens',
      },
    });
    await announceDirectoryChange(trx);
    return { userId: invite.user_id };
  });
}
