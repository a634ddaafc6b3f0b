import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadUserPrincipal } from '../../src/access/principal.js';
import { PgSessionStore, SESSION_CALLER, SessionCaller } from '../../src/access/session-store.js';
import { createDb } from '../../src/db/pool.js';
import type { Database } from '../../src/db/schema.js';
import { apiHarness, type Caller } from '../support/http.js';

// A scope that identifies its callers reads the session and its user in ONE statement (one round
// trip per request instead of two), in the same snapshot: a disabled user is still refused at once
// (test/http/disabled-user.test.ts), and the user read never ends up in the stored session.
const h = await apiHarness();

const sid = (caller: Caller) =>
  decodeURIComponent(caller.headers.cookie?.split('=')[1] ?? '').split('.')[0] as string;

/** A Kysely of its own on the test database that records every statement it sends. */
const statements: string[] = [];
const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
const counted = new Kysely<Database>({
  dialect: new PostgresDialect({ pool }),
  log: (event) => {
    if (event.level === 'query') statements.push(event.query.sql);
  },
});
afterAll(async () => await counted.destroy());

const read = (store: PgSessionStore, id: string) =>
  new Promise<Record<string, unknown> | null>((resolve, reject) =>
    store.get(id, (err, session) =>
      err ? reject(err) : resolve((session as Record<string, unknown> | null) ?? null),
    ),
  );

describe('a session read that brings its caller', () => {
  it('reads the session and its user in one statement, as loadUserPrincipal would', async () => {
    const owner = await h.login('owner@demo.test');
    const store = new PgSessionStore(counted, undefined, { callers: true });
    statements.length = 0;
    const session = await read(store, sid(owner));
    expect(statements).toHaveLength(1);
    expect(session?.userId).toBe(owner.userId);
    const caller = session?.[SESSION_CALLER];
    expect(caller).toBeInstanceOf(SessionCaller);
    expect((caller as SessionCaller).userId).toBe(owner.userId);
    expect((caller as SessionCaller).principal).toEqual(
      await loadUserPrincipal(h.db, owner.userId as string),
    );
    // Never part of what is stored, nor of the session's change detection.
    expect(JSON.parse(JSON.stringify(session))).not.toHaveProperty(SESSION_CALLER);
  });

  it('brings no principal for a disabled user, and nothing for an unknown or expired session', async () => {
    const operator = await h.login('operator@demo.test');
    const store = new PgSessionStore(counted, undefined, { callers: true });
    await sql`update users set disabled_at = now() where email = 'operator@demo.test'`.execute(
      h.db,
    );
    const session = await read(store, sid(operator));
    expect(session?.userId).toBe(operator.userId);
    const caller = session?.[SESSION_CALLER];
    expect(caller).toBeInstanceOf(SessionCaller);
    expect((caller as SessionCaller).principal).toBeUndefined();
    expect((await h.request(operator, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);

    expect(await read(store, 'no-such-session')).toBeNull();
    const readonly = await h.login('readonly@demo.test');
    await h.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where('sid', '=', sid(readonly))
      .execute();
    expect(await read(store, sid(readonly))).toBeNull();
  });

  it('keeps the stored session free of the caller when a request saves it', async () => {
    const manager = await h.login('manager@demo.test');
    // GET /api/me hands out a CSRF token, which may write the session back.
    const me = await h.request(manager, { method: 'GET', url: '/api/me' });
    expect(me.statusCode).toBe(200);
    const row = await h.db
      .selectFrom('sessions')
      .select('data')
      .where('sid', '=', sid(manager))
      .executeTakeFirstOrThrow();
    expect(row.data).not.toHaveProperty(SESSION_CALLER);
    expect(row.data).toHaveProperty('userId', manager.userId);
  });

  it('is a prepared statement on its connection, and survives a migration adding columns', async () => {
    const owner = await h.login('owner@demo.test');
    const one = createDb(h.t.url, { max: 1 });
    try {
      const store = new PgSessionStore(one, undefined, { callers: true });
      // Past five executions PostgreSQL may switch to the generic plan: the one kept.
      for (let i = 0; i < 6; i++)
        expect((await read(store, sid(owner)))?.userId).toBe(owner.userId);
      const prepared = await sql<{ statement: string }>`
        select statement from pg_prepared_statements where name like 'rw_%'`.execute(one);
      expect(prepared.rows.some((p) => p.statement.includes('from sessions s'))).toBe(true);
      await sql`alter table users add column added_later text`.execute(h.db);
      await sql`alter table sessions add column added_later text`.execute(h.db);
      try {
        const session = await read(store, sid(owner));
        const caller = session?.[SESSION_CALLER] as SessionCaller | undefined;
        expect(caller?.principal?.userId).toBe(owner.userId);
      } finally {
        await sql`alter table users drop column added_later`.execute(h.db);
        await sql`alter table sessions drop column added_later`.execute(h.db);
      }
    } finally {
      await one.destroy();
    }
  });
});
