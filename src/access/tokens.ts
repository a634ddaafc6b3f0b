import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Role } from '../db/schema.js';
import { uuidv7 } from '../domain/uuid.js';

const PREFIX = 'rwt_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new API token: random, stored only as its hash; the caller shows it once. */
export async function createToken(
  db: Kysely<Database>,
  spec: { workspaceId: string; name: string; role: Role; createdBy: string },
): Promise<{ id: string; token: string }> {
  const token = PREFIX + randomBytes(32).toString('base64url');
  const id = uuidv7();
  await db
    .insertInto('api_tokens')
    .values({
      id,
      workspace_id: spec.workspaceId,
      name: spec.name,
      role: spec.role,
      token_hash: hashToken(token),
      created_by: spec.createdBy,
    })
    .execute();
  return { id, token };
}

/** The live token for a bearer value, marking it used; undefined when unknown or revoked. */
export async function redeemToken(db: Kysely<Database>, token: string) {
  if (!token.startsWith(PREFIX)) return undefined;
  return await db
    .updateTable('api_tokens')
    .set({ last_used_at: new Date() })
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .returning(['id', 'workspace_id as workspaceId', 'role', 'created_by as createdBy'])
    .executeTakeFirst();
}
