import { type Kysely, sql } from 'kysely';
import type { Database, Role, TenantStatus } from '../db/schema.js';
import type { PlatformCapability } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import { type Accepted, acceptWith, accountExists } from './accept-invitation.js';
import { bootstrapWith } from './directory-bootstrap.js';
import { applyDirectoryFile } from './directory-file-sync.js';
import {
  AcceptInput,
  BootstrapInput,
  DirectoryFile,
  MemberInput,
  PasswordChangeInput,
  PlatformStaffInput,
  parseInput,
  RemoveMemberInput,
  TenantInput,
  TokenCreateInput,
  TokenRevokeInput,
  UserRefInput,
  WorkspaceInput,
} from './directory-input.js';
import { offerMemberWith, upsertMemberWith } from './directory-members.js';
import { createTokenWith, revokeTokenWith } from './directory-tokens.js';
import {
  type DirectoryActor,
  type DirectoryChange,
  DirectoryWriter,
  type Invite,
} from './directory-writer.js';
import { defaultPublicUrl, redeemInvite } from './invites.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import { findOffer } from './pending-memberships.js';

export { BOOTSTRAP_CAPABILITIES } from './directory-bootstrap.js';
export type { DirectoryFileInput } from './directory-input.js';
export type { MemberView } from './directory-members.js';
export type { DirectoryActor, DirectoryChange, Invite } from './directory-writer.js';

export type Outcome = 'created' | 'changed' | 'unchanged';

export interface DirectoryResult {
  changes: DirectoryChange[];
  /** Set-password links for the people created without a password: shown once, never stored. */
  invites: Invite[];
  dryRun: boolean;
}

export interface CallOptions {
  /** Who is acting (HTTP: the caller); default: the directory's own actor. */
  actor?: DirectoryActor;
}

/**
 * The directory (DESIGN §10): the ONLY writer of workspaces, tenants, users, memberships and
 * platform staff. Every call is one transaction, an idempotent upsert keyed by the host's keys
 * (workspace slug, tenant slug, lower-cased email), validated with zod first (bad input writes
 * nothing) and audited. Directory writes are serialized by a transaction-scoped advisory lock.
 */
export function createDirectory(options: {
  db: Kysely<Database>;
  /**
   * Invite links are `<publicUrl>/invite/<token>`; default RUNWARDEN_PUBLIC_URL. null: people sign
   * in elsewhere (the host, SSO only), so new users get no set-password link.
   */
  publicUrl?: string | null;
  actor?: DirectoryActor;
}) {
  const { db } = options;
  const publicUrl = options.publicUrl === undefined ? defaultPublicUrl() : options.publicUrl;
  const defaultActor: DirectoryActor = options.actor ?? {
    userId: null,
    kind: 'system',
    source: 'library',
  };

  async function write<T>(
    call: CallOptions & { dryRun?: boolean | undefined },
    work: (w: DirectoryWriter) => Promise<T>,
  ): Promise<T & DirectoryResult> {
    const rollback = Symbol('dry run');
    let result: (T & DirectoryResult) | undefined;
    try {
      await db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('runwarden.directory'))`.execute(trx);
        const w = new DirectoryWriter(trx, call.actor ?? defaultActor, publicUrl);
        const value = await work(w);
        await w.finish();
        result = {
          ...value,
          changes: w.changes,
          invites: call.dryRun ? [] : w.invites,
          dryRun: Boolean(call.dryRun),
        };
        if (call.dryRun) throw rollback;
      });
    } catch (error) {
      if (error !== rollback) throw error;
    }
    return result as T & DirectoryResult;
  }

  const outcomeOf = (w: DirectoryWriter, from: number): Outcome => {
    const made = w.changes.slice(from);
    return made.some((c) => c.action === 'created' && c.kind !== 'user')
      ? 'created'
      : made.length
        ? 'changed'
        : 'unchanged';
  };

  return {
    async upsertWorkspace(input: { slug: string; name: string }, call: CallOptions = {}) {
      const data = parseInput(WorkspaceInput, input, 'workspace');
      return await write(call, async (w) => {
        const workspace = await w.workspace(data);
        return { workspace, outcome: outcomeOf(w, 0) };
      });
    },

    async upsertTenant(
      input: {
        workspace: string;
        slug: string;
        name: string;
        status?: TenantStatus;
        /** Its share of flow-controlled execution, 1–1000 (default 1; absent: unchanged). */
        weight?: number;
      },
      call: CallOptions = {},
    ) {
      const data = parseInput(TenantInput, input, 'tenant');
      return await write(call, async (w) => {
        const ws = await w.findWorkspace(data.workspace);
        const tenant = await w.tenant(ws, data);
        return { tenant, outcome: outcomeOf(w, 0) };
      });
    },

    /**
     * Creates the user when new (with a one-time invite unless they can already log in). Writing
     * the membership vouches for the person: an account whose password was chosen through a
     * workspace owner's offer link loses that password, its sessions and person tokens, and gets
     * a fresh invite (DESIGN §10).
     */
    async upsertMember(
      input: {
        workspace: string;
        email: string;
        name?: string;
        role: Role;
        tenants?: string[] | null;
        tenantIds?: string[] | null;
        externalId?: string;
      },
      call: CallOptions = {},
    ) {
      const data = parseInput(MemberInput, input, 'member');
      return await write(call, async (w) => {
        const done = await upsertMemberWith(w, data);
        return { ...done, outcome: outcomeOf(w, 0) };
      });
    },

    /**
     * A workspace owner adds someone (DESIGN §10, "tenancy is a boundary"): a member of this
     * workspace gets the role and tenants, nothing of their account changes; anyone else is
     * offered a pending membership (`offered`, with its one-time link), alike whether or not the
     * email has an account anywhere.
     */
    async offerMember(
      input: {
        workspace: string;
        email: string;
        name?: string;
        role: Role;
        tenantIds?: string[] | null;
      },
      call: CallOptions = {},
    ) {
      const data = parseInput(MemberInput, input, 'member');
      return await write(call, (w) => offerMemberWith(w, data));
    },

    /**
     * Accepts an offered membership with its link's token: as the signed-in user the offer names
     * (`userId`; refused for an account whose password an offer link set), or, when no account has
     * that email yet, by creating it with `newPassword`. For an email that has an account, a
     * `newPassword` changes nothing (`accepted: false`) and takes as long: the answer never says
     * whether an account exists, and the offer stays for its person to accept signed in.
     */
    async acceptInvitation(
      input: { token: string; userId: string } | { token: string; newPassword: string },
      call: CallOptions = {},
    ): Promise<Accepted & DirectoryResult> {
      const data = parseInput(AcceptInput, input, 'invitation');
      // Looked up before any hashing: an unknown link costs one indexed read.
      const offer = await findOffer(db, data.token, new Date());
      if (!offer) throw new RunwardenError('invite_invalid');
      if (!('newPassword' in data)) return await write(call, (w) => acceptWith(w, data, undefined));
      // Hashed whether or not the email has an account, so both answers take as long.
      const passwordHash = await hashPassword(data.newPassword);
      if (await accountExists(db, offer.email))
        return { accepted: false, changes: [], invites: [], dryRun: false };
      return await write(call, (w) => acceptWith(w, data, passwordHash));
    },

    /** Idempotent: removing someone who is not a member changes nothing (`removed: false`). */
    async removeMember(
      input: { workspace: string; email: string } | { workspace: string; userId: string },
      call: CallOptions = {},
    ) {
      const data = parseInput(RemoveMemberInput, input, 'member');
      return await write(call, async (w) => {
        const ws = await w.findWorkspace(data.workspace);
        const user =
          'email' in data
            ? await w.findUser(data.email).catch(() => undefined)
            : await w.db
                .selectFrom('users')
                .select(['id', 'email'])
                .where('id', '=', data.userId)
                .executeTakeFirst();
        const removed = user ? await w.removeMember(ws, user) : false;
        // An offer not yet accepted goes too (by its email; by its id, which the list shows).
        const withdrawn =
          'email' in data || !removed
            ? await w.withdrawOffer(
                ws,
                'email' in data ? { email: data.email } : { id: data.userId },
              )
            : false;
        return { removed: removed || withdrawn };
      });
    },

    /** No login, sessions ended, every token they created revoked, pending invites void. */
    async disableUser(input: { email: string }, call: CallOptions = {}) {
      const data = parseInput(UserRefInput, input, 'user');
      return await write(call, async (w) => ({
        disabled: await w.disableUser(await w.findUser(data.email)),
      }));
    },

    /** Undoes disableUser: the user can log in again after setting a password with the returned invite. */
    async enableUser(input: { email: string }, call: CallOptions = {}) {
      const data = parseInput(UserRefInput, input, 'user');
      return await write(call, async (w) => ({
        invite: await w.enableUser(await w.findUser(data.email)),
      }));
    },

    /** Sets the user's platform capabilities to exactly these (creating the user when new). */
    async setPlatformStaff(
      input: { email: string; name?: string; capabilities: PlatformCapability[] },
      call: CallOptions = {},
    ) {
      const data = parseInput(PlatformStaffInput, input, 'platform staff member');
      return await write(call, async (w) => {
        const { user } = await w.user(data);
        await w.platformStaff(user, data.capabilities);
        return { userId: user.id };
      });
    },

    /** A new set-password link for an existing user (e.g. a lost invite), shown once. */
    async invite(input: { email: string }, call: CallOptions = {}) {
      const data = parseInput(UserRefInput, input, 'user');
      return await write(call, async (w) => {
        const user = await w.findUser(data.email);
        if (user.disabled_at) throw new RunwardenError('conflict', `${user.email} is disabled.`);
        return { invite: await w.invite(user.id, user.email) };
      });
    },

    /**
     * The first platform admin (platform.directory + system.ops.*), only while no enabled user holds
     * platform.directory. Without a password it returns a one-time set-password link.
     */
    async bootstrap(
      input: { email: string; name?: string; password?: string },
      call: CallOptions = {},
    ) {
      const data = parseInput(BootstrapInput, input, 'bootstrap request');
      return await write(call, (w) => bootstrapWith(w, data));
    },

    /**
     * Applies a `directory.json` (DESIGN §13) in ONE transaction: upserts every workspace, tenant,
     * member and platform staff member; with `prune`, removes the members and deactivates the
     * tenants of each listed workspace that the file no longer lists (and, when the file has
     * `platformStaff`, clears the platform capabilities of staff it no longer lists). Never deletes
     * a workspace, a tenant or a run. A file that fails validation writes nothing.
     */
    async sync(file: unknown, call: CallOptions & { prune?: boolean; dryRun?: boolean } = {}) {
      const data = parseInput(DirectoryFile, file, 'directory file');
      return await write(call, async (w) => {
        await applyDirectoryFile(w, data, call.prune);
        return {};
      });
    },

    /**
     * A new API token, shown once: with `as`, a person token acting for that member; without, a
     * service token acting for the workspace (it outlives people leaving; DESIGN §10).
     */
    async createToken(
      input: { workspace: string; name: string; role: Role; as?: string },
      call: CallOptions = {},
    ) {
      const data = parseInput(TokenCreateInput, input, 'token');
      return await write(call, (w) => createTokenWith(w, data, call.actor));
    },

    /** Revoked at once: the token answers 401 from its next request. Idempotent. */
    async revokeToken(input: { workspace: string; id: string }, call: CallOptions = {}) {
      const data = parseInput(TokenRevokeInput, input, 'token');
      return await write(call, (w) => revokeTokenWith(w, data));
    },

    /** A signed-in user changes their own password, proving the current one; voids their invites. */
    async changePassword(
      input: { userId: string; currentPassword: string; newPassword: string; keepSession?: string },
      call: CallOptions = {},
    ) {
      const data = parseInput(PasswordChangeInput, input, 'password change');
      const user = await db
        .selectFrom('users')
        .select(['password_hash', 'password_origin', 'oidc_subject'])
        .where('id', '=', data.userId)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      if (
        !(await verifyPassword(user?.password_hash ?? DUMMY_HASH, data.currentPassword)) ||
        !user?.password_hash
      )
        throw new RunwardenError('forbidden', 'The current password is not right.');
      return await write(call, async (w) => {
        const { user: changed } = await w.user({
          ...(await w.db
            .selectFrom('users')
            .select(['email'])
            .where('id', '=', data.userId)
            .executeTakeFirstOrThrow()),
          password: data.newPassword,
        });
        // Knowing the current password proves no ownership of the email: only an account its
        // provider vouched for (linked by SSO) makes its own password; any other keeps its origin.
        await w.db
          .updateTable('users')
          .set({ password_origin: user.oidc_subject ? 'self' : user.password_origin })
          .where('id', '=', changed.id)
          .execute();
        // A pending set-password link would undo the change: it is void now. So is every other
        // session of theirs (whoever knew the old password is signed out).
        await w.db.deleteFrom('invites').where('user_id', '=', changed.id).execute();
        await w.db
          .deleteFrom('sessions')
          .where('user_id', '=', changed.id)
          .$if(data.keepSession !== undefined, (q) =>
            q.where('sid', '!=', data.keepSession as string),
          )
          .execute();
        return { userId: changed.id };
      });
    },

    /** Sets the password of an invite's user and spends the invite. */
    redeemInvite: (token: string, newPassword: string) => redeemInvite(db, token, newPassword),
  };
}

export type Directory = ReturnType<typeof createDirectory>;

/** Whether a directory has been managed here (a bootstrap or any directory write happened). */
export async function directoryManaged(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('settings')
    .select('key')
    .where('key', '=', 'directory.managed_at')
    .executeTakeFirst();
  return Boolean(row);
}
