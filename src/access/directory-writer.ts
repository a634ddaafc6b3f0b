import type { Kysely, Transaction } from 'kysely';
import type { Database, TenantStatus, UserRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { uuidv7 } from '../domain/uuid.js';
import { recordAudit } from '../runs/audit.js';
import { announceDirectoryChange } from './directory-announce.js';
import type {
  DirectoryActor,
  DirectoryChange,
  Invite,
  MemberView,
  WorkspaceRef,
  WriteContext,
} from './directory-changes.js';
import { findUser, findWorkspace, tenantIds, tenantIdsById } from './directory-lookups.js';
import { inviteUrl, issueInvite } from './invites.js';
import {
  type MemberChange,
  type MemberWritten,
  removeMember,
  upsertMember,
} from './membership-writes.js';
import { type Offer, offerMembership, withdrawOffer } from './pending-memberships.js';
import { disableUser, enableUser, setPlatformStaff, upsertUser, vouchFor } from './user-writes.js';

export type { ChangeKind, DirectoryActor, DirectoryChange, Invite } from './directory-changes.js';

/** The settings row that says a directory is managed here (so `runwarden start` never seeds the demo). */
export const DIRECTORY_MARKER = 'directory.managed_at';

type Db = Kysely<Database>;

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
  readonly #publicUrl: string | null;
  readonly #now = new Date();
  /**
   * Workspaces where an owner was removed, demoted or restricted to some tenants: each must still
   * have an owner with every tenant (one who can manage it) at commit.
   */
  readonly #ownersToCheck = new Map<string, string>();
  readonly #ctx: WriteContext;

  constructor(trx: Transaction<Database>, actor: DirectoryActor, publicUrl: string | null) {
    this.#trx = trx;
    this.#actor = actor;
    this.#publicUrl = publicUrl;
    this.#ctx = {
      trx,
      now: this.#now,
      record: (workspaceId, change, details) => this.#record(workspaceId, change, details),
      invite: (userId, email) => this.invite(userId, email),
      links: publicUrl !== null,
      ownerLost: (workspaceId, slug) => this.#ownersToCheck.set(workspaceId, slug),
    };
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
  findWorkspace(ref: string): Promise<WorkspaceRef> {
    return findWorkspace(this.#trx, ref);
  }

  /** A tenant by slug, created or changed; an absent `status` or `weight` stays as it is. */
  async tenant(
    ws: WorkspaceRef,
    input: {
      slug: string;
      name: string;
      status?: TenantStatus | undefined;
      weight?: number | undefined;
    },
    options: { pruned?: boolean } = {},
  ): Promise<{ id: string; slug: string; name: string; status: TenantStatus; weight: number }> {
    const existing = await this.#trx
      .selectFrom('tenants')
      .select(['id', 'slug', 'name', 'status', 'weight'])
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
        weight: input.weight ?? 1,
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
          ...(row.weight !== 1 ? { weight: row.weight } : {}),
        },
      );
      return row;
    }
    const status = input.status ?? existing.status;
    const weight = input.weight ?? existing.weight;
    const diff: Record<string, unknown> = {};
    if (existing.name !== input.name) diff.name = { from: existing.name, to: input.name };
    if (existing.status !== status) diff.status = { from: existing.status, to: status };
    if (existing.weight !== weight) diff.weight = { from: existing.weight, to: weight };
    if (Object.keys(diff).length) {
      await this.#trx
        .updateTable('tenants')
        .set({ name: input.name, status, weight })
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
    return { id: existing.id, slug: existing.slug, name: input.name, status, weight };
  }

  /** The user with that email (or external id), created when new: a new user without a password gets an invite. */
  user(input: Parameters<typeof upsertUser>[1]): Promise<{ user: UserRow; created: boolean }> {
    // Where people sign in elsewhere (no public URL for links), nobody gets a set-password link.
    return upsertUser(this.#ctx, this.#publicUrl === null ? { ...input, invite: false } : input);
  }

  /** A one-time set-password link for the user, returned once (never logged, never audited). */
  async invite(userId: string, email: string): Promise<Invite> {
    if (this.#publicUrl === null)
      throw new RunwardenError(
        'conflict',
        'People sign in through the host or single sign-on here: there are no set-password links.',
      );
    const { token, expiresAt } = await issueInvite(this.#trx, userId, this.#now);
    const invite = { email, url: inviteUrl(this.#publicUrl, token), expiresAt };
    this.invites.push(invite);
    return invite;
  }

  findUser(email: string): Promise<UserRow> {
    return findUser(this.#trx, email);
  }

  /** Resolves tenant slugs of `ws` to ids (sorted); null stays null (every tenant). */
  tenantIds(ws: WorkspaceRef, slugs: string[] | null): Promise<string[] | null> {
    return tenantIds(this.#trx, ws, slugs);
  }

  /** Checks tenant ids belong to `ws` (sorted); null stays null (every tenant). */
  tenantIdsById(ws: WorkspaceRef, ids: string[] | null): Promise<string[] | null> {
    return tenantIdsById(this.#trx, ws, ids);
  }

  /**
   * Writes `user`'s membership of `ws`. The host's directory writing it vouches for the person
   * (DESIGN §10): a password a workspace owner's offer link set is revoked first (`vouchFor`).
   * `offered`: written by a workspace owner's offer instead (accepting it, or the owner changing a
   * member of their own workspace), which vouches for nobody.
   */
  async member(
    ws: WorkspaceRef,
    user: UserRow,
    input: MemberChange,
    options: { offered?: boolean } = {},
  ): Promise<MemberWritten> {
    if (!options.offered) await this.vouch(user);
    return await upsertMember(this.#ctx, ws, user, input);
  }

  /** The host's directory vouches for the person (see `vouchFor`). */
  vouch(user: UserRow): Promise<void> {
    return vouchFor(this.#ctx, user);
  }

  /**
   * Offers `ws` membership to an email (a workspace owner adding someone): pending, it grants
   * nothing until accepted through its link (returned once, like an invite).
   */
  async offer(
    ws: WorkspaceRef,
    offer: Offer,
  ): Promise<{ member: MemberView; invite?: Invite; created: boolean }> {
    const { member, token } = await offerMembership(this.#ctx, ws, offer);
    if (!token || this.#publicUrl === null) return { member, created: token !== undefined };
    const invite = {
      email: offer.email,
      url: inviteUrl(this.#publicUrl, token.token),
      expiresAt: token.expiresAt,
    };
    this.invites.push(invite);
    return { member, invite, created: true };
  }

  /** Withdraws an offered membership (by id or email); false when there is none. */
  withdrawOffer(
    ws: WorkspaceRef,
    ref: { id: string } | { email: string },
    reason?: 'withdrawn' | 'superseded' | 'accepted',
  ): Promise<boolean> {
    return withdrawOffer(this.#ctx, ws, ref, reason);
  }

  /** Removes the membership and revokes the tokens they created here; their sessions stay. */
  removeMember(
    ws: WorkspaceRef,
    user: { id: string; email: string },
    options: { pruned?: boolean } = {},
  ): Promise<boolean> {
    return removeMember(this.#ctx, ws, user, options);
  }

  disableUser(user: UserRow): Promise<boolean> {
    return disableUser(this.#ctx, user);
  }

  /** Re-enables a disabled user; they set a new password through the invite this returns. */
  enableUser(user: UserRow): Promise<Invite | undefined> {
    return enableUser(this.#ctx, user);
  }

  platformStaff(user: UserRow, capabilities: string[], options: { pruned?: boolean } = {}) {
    return setPlatformStaff(this.#ctx, user, capabilities, options);
  }

  /** An audited change made outside the helpers above (token creation, revocation). */
  async note(
    workspaceId: string | null,
    change: DirectoryChange,
    details: Record<string, unknown>,
  ) {
    await this.#record(workspaceId, change, details);
  }

  /**
   * What must hold at commit; then announces the change to live streams and marks the database as
   * directory-managed.
   */
  async finish(): Promise<void> {
    for (const [workspaceId, slug] of this.#ownersToCheck) {
      const owner = await this.#trx
        .selectFrom('memberships')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('role', '=', 'owner')
        // one who can manage it: an owner restricted to some tenants cannot (DESIGN §10)
        .where('tenant_ids', 'is', null)
        .executeTakeFirst();
      if (!owner)
        throw new RunwardenError('conflict', `Workspace ${slug} would be left without an owner.`, {
          details: { reason: 'last_owner', workspace: slug },
        });
    }
    if (this.changes.length) await announceDirectoryChange(this.#trx);
    if (this.#actor.source === 'demo') return; // the demo is not a managed directory
    await this.#trx
      .insertInto('settings')
      .values({ key: DIRECTORY_MARKER, value: this.#now.toISOString() })
      // When the directory was first managed: a write that changes nothing leaves it as it was.
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
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
