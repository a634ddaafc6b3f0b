import type { SessionStore } from '@fastify/session';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

type Stored = Parameters<SessionStore['set']>[1];
const DEFAULT_TTL_MS = 12 * 3600 * 1000;

/** Server-side sessions in the `sessions` table, so every API process shares them (DESIGN §10). */
export class PgSessionStore implements SessionStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  set(sid: string, session: Stored, callback: (err?: unknown) => void): void {
    const expires = session.cookie?.expires
      ? new Date(session.cookie.expires)
      : new Date(Date.now() + DEFAULT_TTL_MS);
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

  get(sid: string, callback: (err: unknown, result?: Stored | null) => void): void {
    this.#db
      .selectFrom('sessions')
      .select('data')
      .where('sid', '=', sid)
      .where('expires_at', '>', new Date())
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
