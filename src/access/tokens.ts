import type { Kysely } from 'kysely';
import type { Database, Role } from '../db/schema.js';
import { uuidv7 } from '../domain/uuid.js';
import { hashSecret, newSecret } from './secrets.js';

const PREFIX = 'rwt_';
/** `last_used_at` is a hint for people, not a log: written at most this often per token. */
export const LAST_USED_EVERY_MS = 60_000;

/**
 * A new API token: random, stored only as its hash; the caller shows it once. `createdBy` null
 * makes a service token, acting for the workspace rather than a person (DESIGN §10).
 */
export async function createToken(
  db: Kysely<Database>,
  spec: { workspaceId: string; name: string; role: Role; createdBy: string | null },
): Promise<{ id: string; token: string }> {
  const { secret: token, hash } = newSecret(PREFIX);
  const id = uuidv7();
  await db
    .insertInto('api_tokens')
    .values({
      id,
      workspace_id: spec.workspaceId,
      name: spec.name,
      role: spec.role,
      token_hash: hash,
      created_by: spec.createdBy,
      kind: spec.createdBy === null ? 'service' : 'person',
    })
    .execute();
  return { id, token };
}

/** A live token as a bearer presents it. */
export interface RedeemedToken {
  id: string;
  workspaceId: string;
  name: string;
  role: Role;
  /** null: a service token. */
  createdBy: string | null;
}

/**
 * The live token for a bearer value; undefined when unknown or revoked. One indexed read per
 * request; `last_used_at` is written only when it is older than a minute (DESIGN §10).
 */
export async function redeemToken(
  db: Kysely<Database>,
  token: string,
  now: Date = new Date(),
): Promise<RedeemedToken | undefined> {
  if (!token.startsWith(PREFIX)) return undefined;
  const row = await db
    .selectFrom('api_tokens')
    .select([
      'id',
      'workspace_id as workspaceId',
      'name',
      'role',
      'created_by as createdBy',
      'last_used_at',
    ])
    .where('token_hash', '=', hashSecret(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const stale = new Date(now.getTime() - LAST_USED_EVERY_MS);
  if (!row.last_used_at || row.last_used_at <= stale) {
    // Conditional, so processes racing on the same minute write it once.
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', stale)]))
      .execute();
  }
  const { last_used_at: _, ...live } = row;
  return live;
}
