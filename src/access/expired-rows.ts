import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/** Tables whose rows carry an `expires_at` and go once it has passed. */
type Expiring =
  | { table: 'sessions'; key: 'sid' }
  | { table: 'login_throttle'; key: 'key' }
  | { table: 'invites'; key: 'token_hash' };

/**
 * Deletes the rows of `spec.table` that expired at or before `now`, `batchSize` at a time (each
 * batch its own short statement, skipping rows another process is deleting), until none are
 * left; returns how many.
 */
export async function deleteExpired(
  db: Kysely<Database>,
  spec: Expiring & { now: Date; batchSize: number },
): Promise<number> {
  const table = sql.table(spec.table);
  const key = sql.ref(spec.key);
  let deleted = 0;
  for (;;) {
    const result = await sql`
      delete from ${table} where ${key} in (
        select ${key} from ${table} where expires_at <= ${spec.now}
        limit ${spec.batchSize} for update skip locked)
      and expires_at <= ${spec.now}`.execute(db);
    const n = Number(result.numAffectedRows ?? 0);
    deleted += n;
    if (n < spec.batchSize) return deleted;
  }
}
