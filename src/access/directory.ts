import { type Kysely, sql } from 'kysely';
import type { Database, Role, TenantStatus } from '../db/schema.js';
import { type PlatformCapability, ROLES } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import {
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
import {
  type DirectoryActor,
  type DirectoryChange,
  DirectoryWriter,
  type Invite,
} from './directory-writer.js';
import { defaultPublicUrl, redeemInvite } from './invites.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import { createToken as insertToken } from './tokens.js';

export type { DirectoryFileInput } from './directory-input.js';
export type { DirectoryActor, DirectoryChange, Invite } from './directory-writer.js';

/** The capabilities of the first platform admin (`runwarden admin bootstrap`). */
export const BOOTSTRAP_CAPABILITIES: readonly PlatformCapability[] = [
  'platform.directory',
  'system.ops.view',
  'system.ops.triage',
];

export type Outcome = 'created' | 'changed' | 'unchanged';

export interface DirectoryResult {
  changes: DirectoryChange[];
  /** Set-password links for the people created without a password: shown once, never stored. */
  invites: Invite[];
  dryRun: boolean;
}

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  tenantIds: string[] | null;
  disabled: boolean;
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
  /** Invite links are `<publicUrl>/invite/<token>`; default RUNWARDEN_PUBLIC_URL. */
  publicUrl?: string;
  actor?: DirectoryActor;
}) {
  const { db } = options;
  const publicUrl = options.publicUrl ?? defaultPublicUrl();
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

  async function upsertMemberWith(
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

  return {
    async upsertWorkspace(input: { slug: string; name: string }, call: CallOptions = {}) {
      const data = parseInput(WorkspaceInput, input, 'workspace');
      return await write(call, async (w) => {
        const workspace = await w.workspace(data);
        return { workspace, outcome: outcomeOf(w, 0) };
      });
    },

    async upsertTenant(
      input: { workspace: string; slug: string; name: string; status?: TenantStatus },
      call: CallOptions = {},
    ) {
      const data = parseInput(TenantInput, input, 'tenant');
      return await write(call, async (w) => {
        const ws = await w.findWorkspace(data.workspace);
        const tenant = await w.tenant(ws, data);
        return { tenant, outcome: outcomeOf(w, 0) };
      });
    },

    /** Creates the user when new (with a one-time invite unless they can already log in). */
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
        return { removed };
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
      return await write(call, async (w) => {
        const admin = await w.db
          .selectFrom('users')
          .select('email')
          .where(sql<boolean>`'platform.directory' = any(platform_capabilities)`)
          .where('disabled_at', 'is', null)
          .executeTakeFirst();
        if (admin)
          throw new RunwardenError(
            'conflict',
            'This directory already has a platform admin; use their account (or `runwarden admin sync`).',
            { details: { reason: 'already_bootstrapped' } },
          );
        const invitesBefore = w.invites.length;
        const { user } = await w.user(data);
        if (!data.password && !w.invites[invitesBefore]) await w.invite(user.id, user.email); // an existing account gets its own link
        await w.platformStaff(user, [
          ...new Set([...user.platform_capabilities, ...BOOTSTRAP_CAPABILITIES]),
        ]);
        return { userId: user.id, invite: w.invites[invitesBefore] };
      });
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
        for (const spec of data.workspaces) {
          const ws = await w.workspace({ slug: spec.slug, name: spec.name });
          for (const tenant of spec.tenants) await w.tenant(ws, tenant);
          for (const member of spec.members)
            await upsertMemberWith(w, {
              ...member,
              workspace: ws.slug,
              tenants: member.tenants ?? null,
            });
          if (!call.prune) continue;
          const tenants = new Set(spec.tenants.map((t) => t.slug));
          const stale = await w.db
            .selectFrom('tenants')
            .select(['slug', 'name'])
            .where('workspace_id', '=', ws.id)
            .where('status', '=', 'active')
            .execute();
          for (const t of stale.filter((t) => !tenants.has(t.slug)))
            await w.tenant(ws, { ...t, status: 'inactive' }, { pruned: true });
          const members = new Set(spec.members.map((m) => m.email));
          const current = await w.db
            .selectFrom('memberships')
            .innerJoin('users', 'users.id', 'memberships.user_id')
            .select(['users.id', 'users.email'])
            .where('memberships.workspace_id', '=', ws.id)
            .execute();
          for (const m of current.filter((m) => !members.has(m.email.toLowerCase())))
            await w.removeMember(ws, m, { pruned: true });
        }
        if (data.platformStaff) {
          for (const staff of data.platformStaff) {
            const { user } = await w.user(staff);
            await w.platformStaff(user, staff.capabilities);
          }
          if (call.prune) {
            const listed = new Set(data.platformStaff.map((s) => s.email));
            const staff = await w.db
              .selectFrom('users')
              .selectAll()
              .where(sql<boolean>`cardinality(platform_capabilities) > 0`)
              .execute();
            // A platform admin (platform.directory) is never pruned: change one by listing them.
            const prunable = staff.filter(
              (u) =>
                !listed.has(u.email.toLowerCase()) &&
                !u.platform_capabilities.includes('platform.directory'),
            );
            for (const user of prunable) await w.platformStaff(user, [], { pruned: true });
          }
        }
        return {};
      });
    },

    /** A new API token acting for `as` (default: the workspace's longest-standing owner); shown once. */
    async createToken(
      input: { workspace: string; name: string; role: Role; as?: string },
      call: CallOptions = {},
    ) {
      const data = parseInput(TokenCreateInput, input, 'token');
      return await write(call, async (w) => {
        const ws = await w.findWorkspace(data.workspace);
        let creator = w.db
          .selectFrom('memberships')
          .innerJoin('users', 'users.id', 'memberships.user_id')
          .select(['users.id', 'users.email', 'memberships.role'])
          .where('memberships.workspace_id', '=', ws.id)
          .where('users.disabled_at', 'is', null);
        creator = data.as
          ? creator.where(sql<string>`lower(users.email)`, '=', data.as)
          : creator.where('memberships.role', '=', 'owner').orderBy('memberships.created_at');
        const by = await (call.actor?.userId
          ? creator.where('users.id', '=', call.actor.userId)
          : creator
        ).executeTakeFirst();
        if (!by)
          throw new RunwardenError(
            data.as ? 'not_found' : 'conflict',
            data.as
              ? `${data.as} is not an enabled member of workspace ${ws.slug}.`
              : `Workspace ${ws.slug} has no enabled owner for the token to act for; name a member.`,
          );
        // ROLES is ordered from most to least rights: a token never has more than its member.
        if (ROLES.indexOf(data.role) < ROLES.indexOf(by.role))
          throw new RunwardenError(
            'validation_failed',
            `A ${data.role} token cannot act for ${by.email}, who is ${by.role} in ${ws.slug}.`,
            { details: { problems: [`role: more than the ${by.role} it acts for`] } },
          );
        const token = await insertToken(w.db, {
          workspaceId: ws.id,
          name: data.name,
          role: data.role,
          createdBy: by.id,
        });
        await w.note(
          ws.id,
          { action: 'created', kind: 'token', key: `${ws.slug}/${data.name}`, id: token.id },
          { name: data.name, role: data.role, createdBy: by.id },
        );
        return { id: token.id, token: token.token, workspaceId: ws.id, createdBy: by.id };
      });
    },

    /** Revoked at once: the token answers 401 from its next request. Idempotent. */
    async revokeToken(input: { workspace: string; id: string }, call: CallOptions = {}) {
      const data = parseInput(TokenRevokeInput, input, 'token');
      return await write(call, async (w) => {
        const ws = await w.findWorkspace(data.workspace);
        const row = await w.db
          .selectFrom('api_tokens')
          .select(['id', 'name', 'revoked_at'])
          .where('id', '=', data.id)
          .where('workspace_id', '=', ws.id)
          .executeTakeFirst();
        if (!row)
          throw new RunwardenError('not_found', `No token ${data.id} in workspace ${ws.slug}.`);
        if (row.revoked_at) return { revoked: false };
        await w.db
          .updateTable('api_tokens')
          .set({ revoked_at: new Date() })
          .where('id', '=', row.id)
          .execute();
        await w.note(
          ws.id,
          { action: 'revoked', kind: 'token', key: `${ws.slug}/${row.name}`, id: row.id },
          { name: row.name },
        );
        return { revoked: true };
      });
    },

    /** A signed-in user changes their own password, proving the current one. */
    async changePassword(
      input: { userId: string; currentPassword: string; newPassword: string },
      call: CallOptions = {},
    ) {
      const data = parseInput(PasswordChangeInput, input, 'password change');
      const user = await db
        .selectFrom('users')
        .select(['password_hash'])
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
