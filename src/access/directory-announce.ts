import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Who may do what changed (a membership, a tenant restriction, a user, a token, a session): said
 * on this channel in the changing transaction, so every API process's live streams re-check their
 * callers at once instead of at their next heartbeat (DESIGN §10). The payload is empty: each
 * stream reloads its own caller.
 */
export const DIRECTORY_CHANNEL = 'runwarden_directory';

/** NOTIFY in `db`'s transaction: heard only if it commits. */
export async function announceDirectoryChange(db: Kysely<Database>): Promise<void> {
  await sql`select pg_notify(${DIRECTORY_CHANNEL}, '')`.execute(db);
}
