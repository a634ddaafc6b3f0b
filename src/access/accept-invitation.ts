import { type Kysely, sql } from 'kysely';
import type { Database, UserRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import type { WorkspaceRef } from './directory-changes.js';
import type { AcceptInput } from './directory-input.js';
import type { DirectoryWriter } from './directory-writer.js';
import { findOffer } from './pending-memberships.js';

export async function accountExists(db: Kysely<Database>, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where(sql<string>`lower(email)`, '=', email)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Turns an offered membership into a membership: for the signed-in user it names, or for the
 * account this creates (`passwordHash`, only when no account has the email). The link's holder
 * may be the owner who offered it, so it never sets an existing account's password.
 */
export async function acceptWith(
  w: DirectoryWriter,
  data: ReturnType<typeof AcceptInput.parse>,
  passwordHash: string | undefined,
): Promise<{ workspace: WorkspaceRef; userId: string }> {
  const offer = await findOffer(w.db, data.token, new Date());
  if (!offer) throw new RunwardenError('invite_invalid');
  const ws = await w.findWorkspace(offer.workspace_id);
  let user: UserRow;
  if ('userId' in data) {
    const signedIn = await w.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', data.userId)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (!signedIn || signedIn.email.toLowerCase() !== offer.email)
      throw new RunwardenError(
        'forbidden',
        'This invitation is for another email address: sign in with that one to accept it.',
      );
    user = signedIn;
  } else {
    if (!passwordHash || (await accountExists(w.db, offer.email)))
      throw new RunwardenError(
        'conflict',
        'This email already has an account: sign in with it, then open the link again to accept.',
      );
    ({ user } = await w.user({
      email: offer.email,
      name: offer.name ?? undefined,
      passwordHash,
      invite: false,
    }));
    // Whoever held the link chose it, maybe the owner who offered it: the email's verified owner's
    // first SSO sign-in revokes it (DESIGN §10).
    await w.db
      .updateTable('users')
      .set({ password_origin: 'invite' })
      .where('id', '=', user.id)
      .execute();
  }
  await w.member(ws, user, { role: offer.role, tenantIds: offer.tenant_ids });
  await w.withdrawOffer(ws, { id: offer.id }, 'accepted');
  return { workspace: ws, userId: user.id };
}
