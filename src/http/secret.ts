import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** The secret every API process shares (session cookies, cursors), created by a migration. */
export async function loadHttpSecret(db: Kysely<Database>): Promise<string> {
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'http_secret')
    .executeTakeFirst()
    .catch(() => undefined);
  if (!row) {
    throw new Error('The database has no HTTP secret yet: run `runwarden migrate` first.');
  }
  return row.value;
}
