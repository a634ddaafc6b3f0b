import type { SessionStore } from '@fastify/session';
import { type Kysely, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { DIRECTORY_CHANNEL } from './directory-announce.js';
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
    const read = await readSession(this.#db, sid, this.#now());
    return read ? ({ ...read.data, [SESSION_CALLER]: read.caller } as Stored) : null;
  }

  /** Logging out ends the session's live streams too: the deletion is announced (DESIGN §10). */
  destroy(sid: string, callback: (err?: unknown) => void): void {
    sql`with gone as (delete from sessions where sid = ${sid} returning sid)
      select pg_notify(${DIRECTORY_CHANNEL}, '') from gone`
      .execute(this.#db)
      .then(() => callback(), callback);
  }
}

/** A live session and its user in one statement (every request of an identifying scope reads it). */
async function readSession(
  db: Kysely<Database>,
  sid: string,
  now: Date,
): Promise<{ data: Stored; caller: SessionCaller } | undefined> {
  // Prepared: planned once per connection.
  const { rows } = await prepared(sql<{
    data: Stored;
    user_id: string | null;
    caller: UserRow | null;
  }>`
    select s.data, s.user_id, (select row_to_json(u) from (${userRowSql(sql.ref('s.user_id'))}) u) as caller
    from sessions s where s.sid = ${sid} and s.expires_at > ${now}`).execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    data: row.data,
    caller: new SessionCaller(row.user_id, row.caller ? userPrincipal(row.caller) : undefined),
  };
}

/**
 * The principal of `userId`'s session `sid`, read as a request reads it; undefined once the
 * session ended (logout, expiry, the user's sessions ended) or the user is disabled.
 */
export async function sessionPrincipal(
  db: Kysely<Database>,
  sid: string,
  userId: string,
): Promise<Principal | undefined> {
  const read = await readSession(db, sid, new Date());
  return read?.caller.userId === userId ? read.caller.principal : undefined;
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
