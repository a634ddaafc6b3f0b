import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { recordAudit } from '../runs/audit.js';
import { announceDirectoryChange } from './directory-announce.js';
import { endPersonAccess } from './person-access.js';

/** Who the OpenID provider says signed in: its issuer and its subject there. */
export interface SsoIdentity {
  issuer: string;
  subject: string;
}

const ELSEWHERE = 'This email is linked to another sign-in at the provider.';

/**
 * Refuses, before anything is written, a sign-in whose email belongs to an account linked to
 * another identity, or whose identity is linked to another account (its email changed there).
 */
export async function checkSsoIdentity(
  db: Kysely<Database>,
  user: { id: string; oidc_issuer: string | null; oidc_subject: string | null } | undefined,
  identity: SsoIdentity,
): Promise<void> {
  if (user?.oidc_subject && !sameIdentity(user, identity))
    throw new RunwardenError('forbidden', ELSEWHERE);
  const holder = await db
    .selectFrom('users')
    .select('id')
    .where('oidc_issuer', '=', identity.issuer)
    .where('oidc_subject', '=', identity.subject)
    .executeTakeFirst();
  if (holder && holder.id !== user?.id)
    throw new RunwardenError('forbidden', 'This sign-in is linked to another account.');
}

/**
 * Makes the provider's vouching the only way in that nobody else may hold (DESIGN §10): links the
 * account to the identity at its first SSO sign-in, and at every SSO sign-in revokes a password
 * set through a link ('invite' or 'offer': whoever held it may know it, the inviter included) with
 * every session of the account and every person token it created (whoever knew the password may
 * have made them), voids pending invites, and tells open streams. A password the operator set
 * ('admin') or the linked owner changed ('self') stays.
 */
export async function linkSsoIdentity(
  db: Kysely<Database>,
  userId: string,
  identity: SsoIdentity,
): Promise<{ linked: boolean; passwordRevoked: boolean }> {
  return await db.transaction().execute(async (trx) => {
    const user = await trx
      .selectFrom('users')
      .select(['oidc_issuer', 'oidc_subject', 'password_hash', 'password_origin'])
      .where('id', '=', userId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (user.oidc_subject && !sameIdentity(user, identity))
      throw new RunwardenError('forbidden', ELSEWHERE);
    const linked = !user.oidc_subject;
    const passwordRevoked =
      user.password_hash !== null &&
      user.password_origin !== 'self' &&
      user.password_origin !== 'admin';
    if (linked || passwordRevoked)
      await trx
        .updateTable('users')
        .set({
          oidc_issuer: identity.issuer,
          oidc_subject: identity.subject,
          ...(passwordRevoked ? { password_hash: null, password_origin: null } : {}),
        })
        .where('id', '=', userId)
        .execute();
    const invites = await trx
      .deleteFrom('invites')
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    const ended = passwordRevoked
      ? await endPersonAccess(trx, userId, new Date())
      : { sessionsEnded: 0, tokensRevoked: [] };
    if (linked || passwordRevoked || invites.numDeletedRows > 0n)
      await recordAudit(trx, {
        actor: { userId, kind: 'user' },
        action: 'user.sso_linked',
        target: { type: 'user', id: userId },
        details: {
          issuer: identity.issuer,
          firstSignIn: linked,
          passwordRevoked,
          ...ended,
          invitesVoided: Number(invites.numDeletedRows),
        },
      });
    if (passwordRevoked) await announceDirectoryChange(trx);
    return { linked, passwordRevoked };
  });
}

function sameIdentity(
  user: { oidc_issuer: string | null; oidc_subject: string | null },
  identity: SsoIdentity,
): boolean {
  return user.oidc_issuer === identity.issuer && user.oidc_subject === identity.subject;
}
