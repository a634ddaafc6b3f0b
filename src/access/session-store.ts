import type { SessionStore } from '@fastify/session';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { deleteExpired } from './expired-rows.js';

type Stored = Parameters<SessionStore['set']>[1];
const DEFAULT_TTL_MS = 12 * 3600 * 1000;
export const SESSION_PRUNE_BATCH = 1_000;

/** Server-side sessions in the `sessions` table, so every API process shares them (DESIGN §10). */
export class PgSessionStore implements SessionStore {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  set(sid: string, session: Stored, callback: (err?: unknown) => void): void {
    const expires = session.cookie?.expires
      ? new Date(session.cookie.expires)
      : new Date(this.#now().getTime() + DEFAULT_TTL_MS);
    const userId = (session as { userId?: string }).userId ?? null;
    const data = JSON.stringify(session);
    this.#db
      .insertInto('sessions')
      .values({ sid, user_id: userId, data, expires_at: expires })
      .onConflict((oc) =>
        oc.column('sid').doUpdateSet({ user_id: userId, data, expires_at: expires }),
      )
      .execute()
      .then(() => callback(), callback);
  }

  /** An expired session is never returned, whether or not the pruner has deleted it yet. */
  get(sid: string, callback: (err: unknown, result?: Stored | null) => void): void {
    this.#db
      .selectFrom('sessions')
      .select('data')
      .where('sid', '=', sid)
      .where('expires_at', '>', this.#now())
      .executeTakeFirst()
      .then((row) => callback(null, (row?.data as Stored | undefined) ?? null), callback);
  }

  destroy(sid: string, callback: (err?: unknown) => void): void {
    this.#db
      .deleteFrom('sessions')
      .where('sid', '=', sid)
      .execute()
      .then(() => callback(), callback);
  }
}

/**
 * Deletes sessions that expired before `now`, in batches of `batchSize` (each its own short
 * statement, so no long lock), until none are left; returns how many.
 */
export async function pruneExpiredSessions(
  db: Kysely<Database>,
  options: { now?: Date; batchSize?: number } = {},
): Promise<number> {
  return await deleteExpired(db, {
    table: 'sessions',
    key: 'sid',
    now: options.now ?? new Date(),
    batchSize: options.batchSize ?? SESSION_PRUNE_BATCH,
  });
}
