import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, Role, TenantStatus, UserRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { isUuid, uuidv7 } from '../domain/uuid.js';
import { recordAudit } from '../runs/audit.js';
import { inviteUrl, issueInvite } from './invites.js';
import { hashPassword } from './passwords.js';

/** Who changes the directory: a user (HTTP) or nobody in particular (CLI, library), and through what. */
export interface DirectoryActor {
  userId: string | null;
  kind: 'user' | 'token' | 'system';
  source: 'cli' | 'library' | 'http';
}

export type ChangeKind = 'workspace' | 'tenant' | 'member' | 'user' | 'platform_staff' | 'token';

/** One change the directory made (or, in a dry run, would make). */
export interface DirectoryChange {
  action: 'created' | 'changed' | 'removed' | 'deactivated' | 'disabled' | 'revoked';
  kind: ChangeKind;
  /** The host's key: `acme`, `acme/prod`, `acme/alice@example.com`, `alice@example.com`. */
  key: string;
  id: string;
  /** Made because the file no longer lists it (`sync --prune`). */
  pruned?: boolean;
  details?: Record<string, unknown>;
}

/** A one-time set-password link; its token exists nowhere else. */
export interface Invite {
  email: string;
  url: string;
  expiresAt: Date;
}

/** The settings row that says a directory is managed here (so `runwarden start` never seeds the demo). */
export const DIRECTORY_MARKER = 'directory.managed_at';

type Db = Kysely<Database>;
type WorkspaceRef = { id: string; slug: string; name: string };

/**
 * One directory transaction: every write of directory state goes through here (DESIGN §10), each
 * recorded as a change and in the audit log. `finish()` enforces what must hold at commit (every
 * workspace that lost an owner still has one) and marks the database as directory-managed.
 */
export class DirectoryWriter {
  readonly changes: DirectoryChange[] = [];
  readonly invites: Invite[] = [];
  readonly #trx: Transaction<Database>;
  readonly #actor: DirectoryActor;
  readonly #publicUrl: string;
  readonly #now = new Date();
  /** Workspaces where an owner was removed or demoted: each must still have an owner at commit. */
  readonly #ownersToCheck = new Map<string, string>();

  constructor(trx: Transaction<Database>, actor: DirectoryActor, publicUrl: string) {
    this.#trx = trx;
    this.#actor = actor;
    this.#publicUrl = publicUrl;
  }

  get db(): Db {
    return this.#trx;
  }

  async workspace(input: { slug: string; name: string }): Promise<WorkspaceRef> {
    const existing = await this.#trx
      .selectFrom('workspaces')
      .select(['id', 'slug', 'name'])
      .where('slug', '=', input.slug)
      .executeTakeFirst();
    if (!existing) {
      const row = { id: uuidv7(), slug: input.slug, name: input.name };
      await this.#trx.insertInto('workspaces').values(row).execute();
      await this.#record(
        row.id,
        { action: 'created', kind: 'workspace', key: row.slug, id: row.id },
        {
          name: row.name,
        },
      );
      return row;
    }
    if (existing.name !== input.name) {
      await this.#trx
        .updateTable('workspaces')
        .set({ name: input.name })
        .where('id', '=', existing.id)
        .execute();
      await this.#record(
        existing.id,
        { action: 'changed', kind: 'workspace', key: existing.slug, id: existing.id },
        { name: { from: existing.name, to: input.name } },
      );
    }
    return { ...existing, name: input.name };
  }

  /** The workspace with that slug or id; `not_found` otherwise. */
  async findWorkspace(ref: string): Promise<WorkspaceRef> {
    const row = await this.#trx
      .selectFrom('workspaces')
      .select(['id', 'slug', 'name'])
      .where((eb) =>
        isUuid(ref) ? eb.or([eb('id', '=', ref), eb('slug', '=', ref)]) : eb('slug', '=', ref),
      )
      .executeTakeFirst();
    if (!row) throw new RunwardenError('not_found', `No workspace ${ref}.`);
    return row;
  }

  async tenant(
    ws: WorkspaceRef,
    input: { slug: string; name: string; status?: TenantStatus | undefined },
    options: { pruned?: boolean } = {},
  ): Promise<{ id: string; slug: string; name: string; status: TenantStatus }> {
    const existing = await this.#trx
      .selectFrom('tenants')
      .select(['id', 'slug', 'name', 'status'])
      .where('workspace_id', '=', ws.id)
      .where('slug', '=', input.slug)
      .executeTakeFirst();
    const key = `${ws.slug}/${input.slug}`;
    if (!existing) {
      const row = {
        id: uuidv7(),
        slug: input.slug,
        name: input.name,
        status: input.status ?? ('active' as const),
      };
      await this.#trx
        .insertInto('tenants')
        .values({ ...row, workspace_id: ws.id })
        .execute();
      await this.#record(
        ws.id,
        { action: 'created', kind: 'tenant', key, id: row.id },
        {
          name: row.name,
          status: row.status,
        },
      );
      return row;
    }
    const status = input.status ?? existing.status;
    const diff: Record<string, unknown> = {};
    if (existing.name !== input.name) diff.name = { from: existing.name, to: input.name };
    if (existing.status !== status) diff.status = { from: existing.status, to: status };
    if (Object.keys(diff).length) {
      await this.#trx
        .updateTable('tenants')
        .set({ name: input.name, status })
        .where('id', '=', existing.id)
        .execute();
      const action = diff.status && status === 'inactive' ? 'deactivated' : 'changed';
      await this.#record(
        ws.id,
        {
          action,
          kind: 'tenant',
          key,
          id: existing.id,
          ...(options.pruned ? { pruned: true } : {}),
        },
        diff,
      );
    }
    return { id: existing.id, slug: existing.slug, name: input.name, status };
  }

  /** The user with that email (or external id), created when new: a new user without a password gets an invite. */
  async user(input: {
    email: string;
    name?: string | undefined;
    externalId?: string | undefined;
    password?: string | undefined;
    /** false: no set-password link for a new user (one who signs in through the host or SSO). */
    invite?: boolean;
  }): Promise<{ user: UserRow; created: boolean }> {
    const byExternal = input.externalId
      ? await this.#trx
          .selectFrom('users')
          .selectAll()
          .where('external_id', '=', input.externalId)
          .executeTakeFirst()
      : undefined;
    const byEmail = await this.#trx
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
    const passwordHash = input.password ? await hashPassword(input.password) : undefined;
    if (!existing) {
      const row = {
        id: uuidv7(),
        email: input.email,
        name: input.name ?? input.email.split('@')[0] ?? input.email,
        password_hash: passwordHash ?? null,
        external_id: input.externalId ?? null,
      };
      await this.#trx.insertInto('users').values(row).execute();
      await this.#record(
        null,
        { action: 'created', kind: 'user', key: row.email, id: row.id },
        {
          name: row.name,
          ...(row.external_id ? { externalId: row.external_id } : {}),
          invited: !passwordHash && input.invite !== false,
        },
      );
      if (!passwordHash && input.invite !== false) await this.invite(row.id, row.email);
      const user = await this.#trx
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
    const user = await this.#trx
      .updateTable('users')
      .set({
        email: input.email,
        name: input.name ?? existing.name,
        external_id: input.externalId ?? existing.external_id,
        ...(passwordHash ? { password_hash: passwordHash } : {}),
      })
      .where('id', '=', existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.#record(
      null,
      { action: 'changed', kind: 'user', key: user.email, id: user.id },
      diff,
    );
    return { user, created: false };
  }

  /** A one-time set-password link for the user, returned once (never logged, never audited). */
  async invite(userId: string, email: string): Promise<Invite> {
    const { token, expiresAt } = await issueInvite(this.#trx, userId, this.#now);
    const invite = { email, url: inviteUrl(this.#publicUrl, token), expiresAt };
    this.invites.push(invite);
    return invite;
  }

  async findUser(email: string): Promise<UserRow> {
    const user = await this.#trx
      .selectFrom('users')
      .selectAll()
      .where(sql<string>`lower(email)`, '=', email)
      .executeTakeFirst();
    if (!user) throw new RunwardenError('not_found', `No user ${email}.`);
    return user;
  }

  /** Resolves tenant slugs of `ws` to ids (sorted); null stays null (every tenant). */
  async tenantIds(ws: WorkspaceRef, slugs: string[] | null): Promise<string[] | null> {
    if (slugs === null) return null;
    if (!slugs.length) return [];
    const rows = await this.#trx
      .selectFrom('tenants')
      .select(['id', 'slug'])
      .where('workspace_id', '=', ws.id)
      .where('slug', 'in', slugs)
      .execute();
    const missing = slugs.filter((s) => !rows.some((r) => r.slug === s));
    if (missing.length) {
      const problems = missing.map((s) => `tenants: no tenant ${s} in workspace ${ws.slug}`);
      throw new RunwardenError('validation_failed', problems.join('; '), { details: { problems } });
    }
    return rows.map((r) => r.id).sort();
  }

  /** Checks tenant ids belong to `ws` (sorted); null stays null (every tenant). */
  async tenantIdsById(ws: WorkspaceRef, ids: string[] | null): Promise<string[] | null> {
    if (ids === null) return null;
    const unique = [...new Set(ids)];
    if (!unique.length) return [];
    const rows = await this.#trx
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', ws.id)
      .where('id', 'in', unique)
      .execute();
    const missing = unique.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length) {
      const problems = missing.map((id) => `tenantIds: no tenant ${id} in workspace ${ws.slug}`);
      throw new RunwardenError('validation_failed', problems.join('; '), { details: { problems } });
    }
    return unique.sort();
  }

  async member(
    ws: WorkspaceRef,
    user: UserRow,
    input: { role: Role; tenantIds: string[] | null | undefined },
  ): Promise<{
    role: Role;
    tenantIds: string[] | null;
    outcome: 'created' | 'changed' | 'unchanged';
  }> {
    const key = `${ws.slug}/${user.email}`;
    const existing = await this.#trx
      .selectFrom('memberships')
      .select(['id', 'role', 'tenant_ids'])
      .where('workspace_id', '=', ws.id)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    if (!existing) {
      const tenantIds = input.tenantIds ?? null;
      const id = uuidv7();
      await this.#trx
        .insertInto('memberships')
        .values({
          id,
          workspace_id: ws.id,
          user_id: user.id,
          role: input.role,
          tenant_ids: tenantIds,
        })
        .execute();
      await this.#record(
        ws.id,
        { action: 'created', kind: 'member', key, id: user.id },
        {
          role: input.role,
          tenantIds,
        },
      );
      return { role: input.role, tenantIds, outcome: 'created' };
    }
    const tenantIds = input.tenantIds === undefined ? existing.tenant_ids : input.tenantIds;
    const before = existing.tenant_ids ? [...existing.tenant_ids].sort() : null;
    const diff: Record<string, unknown> = {};
    if (existing.role !== input.role) diff.role = { from: existing.role, to: input.role };
    if (JSON.stringify(before) !== JSON.stringify(tenantIds))
      diff.tenantIds = { from: existing.tenant_ids, to: tenantIds };
    if (!Object.keys(diff).length)
      return { role: existing.role, tenantIds: before, outcome: 'unchanged' };
    if (existing.role === 'owner' && input.role !== 'owner')
      this.#ownersToCheck.set(ws.id, ws.slug);
    await this.#trx
      .updateTable('memberships')
      .set({ role: input.role, tenant_ids: tenantIds })
      .where('id', '=', existing.id)
      .execute();
    await this.#record(ws.id, { action: 'changed', kind: 'member', key, id: user.id }, diff);
    return { role: input.role, tenantIds, outcome: 'changed' };
  }

  /** Removes the membership, ends the user's sessions and revokes the tokens they created here. */
  async removeMember(
    ws: WorkspaceRef,
    user: { id: string; email: string },
    options: { pruned?: boolean } = {},
  ): Promise<boolean> {
    const removed = await this.#trx
      .deleteFrom('memberships')
      .where('workspace_id', '=', ws.id)
      .where('user_id', '=', user.id)
      .returning('role')
      .executeTakeFirst();
    if (!removed) return false;
    if (removed.role === 'owner') this.#ownersToCheck.set(ws.id, ws.slug);
    const ended = await this.#endAccess(user.id, ws.id);
    await this.#record(
      ws.id,
      {
        action: 'removed',
        kind: 'member',
        key: `${ws.slug}/${user.email}`,
        id: user.id,
        ...(options.pruned ? { pruned: true } : {}),
      },
      { role: removed.role, ...ended },
    );
    return true;
  }

  async disableUser(user: UserRow): Promise<boolean> {
    if (user.disabled_at) return false;
    await this.#trx
      .updateTable('users')
      .set({ disabled_at: this.#now, password_hash: null })
      .where('id', '=', user.id)
      .execute();
    await this.#trx.deleteFrom('invites').where('user_id', '=', user.id).execute();
    const ended = await this.#endAccess(user.id, null);
    await this.#record(
      null,
      { action: 'disabled', kind: 'user', key: user.email, id: user.id },
      ended,
    );
    return true;
  }

  /** Re-enables a disabled user; they set a new password through the invite this returns. */
  async enableUser(user: UserRow): Promise<Invite | undefined> {
    if (!user.disabled_at) return undefined;
    await this.#trx
      .updateTable('users')
      .set({ disabled_at: null })
      .where('id', '=', user.id)
      .execute();
    await this.#record(
      null,
      { action: 'changed', kind: 'user', key: user.email, id: user.id },
      {
        disabled: { from: true, to: false },
      },
    );
    return await this.invite(user.id, user.email);
  }

  async platformStaff(user: UserRow, capabilities: string[], options: { pruned?: boolean } = {}) {
    const next = [...new Set(capabilities)].sort();
    const before = [...user.platform_capabilities].sort();
    if (JSON.stringify(next) === JSON.stringify(before)) return false;
    await this.#trx
      .updateTable('users')
      .set({ platform_capabilities: next })
      .where('id', '=', user.id)
      .execute();
    await this.#record(
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

  /** An audited change made outside the helpers above (token creation, revocation). */
  async note(
    workspaceId: string | null,
    change: DirectoryChange,
    details: Record<string, unknown>,
  ) {
    await this.#record(workspaceId, change, details);
  }

  /** What must hold at commit; then marks the database as directory-managed. */
  async finish(): Promise<void> {
    for (const [workspaceId, slug] of this.#ownersToCheck) {
      const owner = await this.#trx
        .selectFrom('memberships')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('role', '=', 'owner')
        .executeTakeFirst();
      if (!owner)
        throw new RunwardenError('conflict', `Workspace ${slug} would be left without an owner.`, {
          details: { reason: 'last_owner', workspace: slug },
        });
    }
    await this.#trx
      .insertInto('settings')
      .values({ key: DIRECTORY_MARKER, value: this.#now.toISOString() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: this.#now.toISOString() }))
      .execute();
  }

  /** Ends every session of the user and revokes their live tokens (in one workspace, or all). */
  async #endAccess(userId: string, workspaceId: string | null) {
    const sessions = await this.#trx
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    let revoke = this.#trx
      .updateTable('api_tokens')
      .set({ revoked_at: this.#now })
      .where('created_by', '=', userId)
      .where('revoked_at', 'is', null);
    if (workspaceId) revoke = revoke.where('workspace_id', '=', workspaceId);
    const tokens = await revoke.returning('id').execute();
    return {
      sessionsEnded: Number(sessions.numDeletedRows),
      tokensRevoked: tokens.map((t) => t.id),
    };
  }

  async #record(
    workspaceId: string | null,
    change: DirectoryChange,
    details: Record<string, unknown>,
  ): Promise<void> {
    this.changes.push({ ...change, details });
    await recordAudit(this.#trx, {
      actor: { userId: this.#actor.userId, kind: this.#actor.kind },
      action: `${change.kind}.${change.action}`,
      workspaceId,
      target: { type: change.kind, id: change.id },
      details: {
        key: change.key,
        source: this.#actor.source,
        ...(change.pruned ? { pruned: true } : {}),
        ...details,
      },
    });
  }
}
