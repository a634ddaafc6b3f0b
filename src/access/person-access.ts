import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Ends everything a person's account holds open, in `db`'s transaction: every session, and every
 * live person token they created (a service token has no creator, so it stays). Returns what ended,
 * for the audit log. The caller announces the change on the directory channel.
 */
export async function endPersonAccess(db: Kysely<Database>, userId: string, now: Date) {
  const sessions = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  const tokens = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('created_by', '=', userId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return {
    sessionsEnded: Number(sessions.numDeletedRows),
    tokensRevoked: tokens.map((t) => t.id),
  };
}
