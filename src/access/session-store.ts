import type { SessionStore } from '@fastify/session';
import { type Kysely, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { deleteExpired } from './expired-rows.js';
import { type Principal, type UserRow, userPrincipal, userRowSql } from './principal.js';

type Stored = Parameters<SessionStore['set']>[1];
const DEFAULT_TTL_MS = 12 * 3600 * 1000;
export const SESSION_PRUNE_BATCH = 1_000;

/** Where a caller-reading store puts the caller it read beside a session (`SessionCaller`). */
export const SESSION_CALLER = 'runwardenCaller';

/**
 * The session's user as read in the same statement (and snapshot) as the session itself: its
 * principal, or none when the user is disabled or gone. It lives on the request's session object
 * only: `toJSON` leaves it out of the stored session and of @fastify/session's change detection.
 */
export class SessionCaller {
  constructor(
    readonly userId: string | null,
    readonly principal: Principal | undefined,
  ) {}

  toJSON(): undefined {
    return undefined;
  }
}

/** Server-side sessions in the `sessions` table, so every API process shares them (DESIGN §10). */
export class PgSessionStore implements SessionStore {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;
  readonly #callers: boolean;

  /**
   * `callers`: each read also reads the session's user and memberships (one round trip for both
   * instead of two); the session then carries a `SessionCaller` under `SESSION_CALLER`.
   */
  constructor(
    db: Kysely<Database>,
    now: () => Date = () => new Date(),
    options: { callers?: boolean } = {},
  ) {
    this.#db = db;
    this.#now = now;
    this.#callers = options.callers ?? false;
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
    if (this.#callers) {
      this.#getWithCaller(sid).then((session) => callback(null, session), callback);
      return;
    }
    this.#db
      .selectFrom('sessions')
      .select('data')
      .where('sid', '=', sid)
      .where('expires_at', '>', this.#now())
      .executeTakeFirst()
      .then((row) => callback(null, (row?.data as Stored | undefined) ?? null), callback);
  }

  async #getWithCaller(sid: string): Promise<Stored | null> {
    // Every request of an identifying scope sends it: prepared (planned once per connection).
    const { rows } = await prepared(sql<{
      data: Stored;
      user_id: string | null;
      caller: UserRow | null;
    }>`
      select s.data, s.user_id, (select row_to_json(u) from (${userRowSql(sql.ref('s.user_id'))}) u) as caller
      from sessions s where s.sid = ${sid} and s.expires_at > ${this.#now()}`).execute(this.#db);
    const row = rows[0];
    if (!row) return null;
    const caller = new SessionCaller(
      row.user_id,
      row.caller ? userPrincipal(row.caller) : undefined,
    );
    return { ...row.data, [SESSION_CALLER]: caller } as Stored;
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
