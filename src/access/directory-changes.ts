import type { Transaction } from 'kysely';
import type { Database, Role } from '../db/schema.js';

/**
 * Who changes the directory: a user (HTTP) or nobody in particular (CLI, library), and through
 * what. `demo`: the demo seed, whose writes do not make the directory "managed" (DESIGN §13).
 */
export interface DirectoryActor {
  userId: string | null;
  kind: 'user' | 'token' | 'system' | `service:${string}`;
  source: 'cli' | 'library' | 'http' | 'demo';
}

export type ChangeKind =
  | 'workspace'
  | 'tenant'
  | 'member'
  | 'user'
  | 'platform_staff'
  | 'token'
  /** A membership a workspace owner offered (pending until the person accepts it). */
  | 'invitation';

/** One change the directory made (or, in a dry run, would make). */
export interface DirectoryChange {
  action: 'created' | 'changed' | 'removed' | 'deactivated' | 'disabled' | 'revoked' | 'accepted';
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

/** A member as the directory answers and lists them (never a secret). */
export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  tenantIds: string[] | null;
  disabled: boolean;
  /** Offered by a workspace owner and not yet accepted: it grants nothing. */
  pending: boolean;
}

export type WorkspaceRef = { id: string; slug: string; name: string };

/** What a write needs from its DirectoryWriter: the transaction, its clock, and its change log. */
export interface WriteContext {
  trx: Transaction<Database>;
  now: Date;
  record(
    workspaceId: string | null,
    change: DirectoryChange,
    details: Record<string, unknown>,
  ): Promise<void>;
  invite(userId: string, email: string): Promise<Invite>;
  /** Whether set-password links exist here (a public URL; not where people sign in elsewhere). */
  links: boolean;
  /** The workspace lost an owner: it must still have one at commit. */
  ownerLost(workspaceId: string, slug: string): void;
}
