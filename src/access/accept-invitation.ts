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

/** What accepting did: `accepted: false` when the email had an account (nothing was written). */
export type Accepted =
  | { accepted: true; workspace: WorkspaceRef; userId: string }
  | { accepted: false };

const UNVOUCHED =
  "This account's password was set through a workspace owner's invitation link, so it can accept " +
  'no other invitation until the platform vouches for it: sign in with single sign-on, or set a ' +
  "password through a link from the platform's directory, then open this link again.";

/**
 * Turns an offered membership into a membership: for the signed-in user it names, or for the
 * account this creates (`passwordHash`). The link's holder may be the owner who offered it, so it
 * never sets an existing account's password, nor says that one exists: with a password for an
 * email that has an account it writes nothing and answers like a success (the offer stays for its
 * person to accept signed in). A password chosen here has origin 'offer' (DESIGN §10): the account
 * holds this offer's membership and nothing more until the platform vouches for it.
 */
export async function acceptWith(
  w: DirectoryWriter,
  data: ReturnType<typeof AcceptInput.parse>,
  passwordHash: string | undefined,
): Promise<Accepted> {
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
    // Whoever chose this account's password may be another workspace's owner, who made it by
    // accepting their own offer: it is trusted for that offer alone.
    if (signedIn.password_origin === 'offer') throw new RunwardenError('forbidden', UNVOUCHED);
    user = signedIn;
  } else {
    if (!passwordHash) throw new RunwardenError('invite_invalid');
    if (await accountExists(w.db, offer.email)) return { accepted: false };
    ({ user } = await w.user({
      email: offer.email,
      name: offer.name ?? undefined,
      passwordHash,
      invite: false,
    }));
    // Whoever held the link chose it, maybe the owner who offered it: the email's verified owner's
    // first SSO sign-in revokes it, and so does the host's directory vouching for the account.
    await w.db
      .updateTable('users')
      .set({ password_origin: 'offer' })
      .where('id', '=', user.id)
      .execute();
  }
  await w.member(ws, user, { role: offer.role, tenantIds: offer.tenant_ids }, { offered: true });
  await w.withdrawOffer(ws, { id: offer.id }, 'accepted');
  return { accepted: true, workspace: ws, userId: user.id };
}
