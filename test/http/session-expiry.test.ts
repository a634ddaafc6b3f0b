import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pruneExpiredSessions } from '../../src/access/session-store.js';
import { createDb } from '../../src/db/pool.js';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { quietLogger } from '../support/worker.js';

// Expired sessions are refused and deleted (DESIGN §10): rows are back-dated, never waited for.
const h = await apiHarness();

const sid = (caller: Caller) =>
  decodeURIComponent(caller.headers.cookie?.split('=')[1] ?? '').split('.')[0] as string;

async function expire(caller: Caller): Promise<void> {
  const res = await h.db
    .updateTable('sessions')
    .set({ expires_at: new Date(Date.now() - 60_000) })
    .where('sid', '=', sid(caller))
    .executeTakeFirst();
  expect(Number(res.numUpdatedRows)).toBe(1);
}

const sessionExists = async (caller: Caller) =>
  (await h.db.selectFrom('sessions').select('sid').where('sid', '=', sid(caller)).execute())
    .length === 1;

const me = async (caller: Caller) =>
  (await h.request(caller, { method: 'GET', url: '/api/me' })).statusCode;

describe('session expiry', () => {
  it('refuses an expired session (401); the prune deletes it and keeps the live one', async () => {
    const expired = await h.login('operator@demo.test');
    const live = await h.login('readonly@demo.test');
    await expire(expired);
    expect(await me(expired)).toBe(401);
    expect(await me(live)).toBe(200);

    expect(await pruneExpiredSessions(h.db)).toBeGreaterThanOrEqual(1);
    expect(await sessionExists(expired)).toBe(false);
    expect(await sessionExists(live)).toBe(true);
    expect(await me(live)).toBe(200);
  });

  it('prunes in bounded batches until no expired session is left', async () => {
    const past = new Date(Date.now() - 1_000);
    await h.db
      .insertInto('sessions')
      .values(
        Array.from({ length: 2_500 }, (_, i) => ({
          sid: `old-${i}`,
          user_id: null,
          data: '{}',
          expires_at: past,
        })),
      )
      .execute();
    expect(await pruneExpiredSessions(h.db, { batchSize: 1_000 })).toBe(2_500);
    const left = await h.db
      .selectFrom('sessions')
      .select('sid')
      .where('expires_at', '<=', new Date())
      .execute();
    expect(left).toEqual([]);
  });

  it('every API process prunes on its own timer: expired sessions, throttle windows and invites go', async () => {
    const db = createDb(h.t.url, { max: 4 });
    const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });
    const app = await buildApp({
      db,
      pool,
      logger: quietLogger,
      registry: h.registry,
      runs: new RunService({ db }),
      options: { webRoot: false, accessPruneMs: 50 },
    });
    afterAll(async () => {
      await app.close();
      await db.destroy();
      await pool.end();
    });
    const expired = await h.login('owner@demo.test');
    const live = await h.login('manager@demo.test');
    await expire(expired);
    await h.db
      .insertInto('login_throttle')
      .values({ key: 'ended-window', attempts: 3, expires_at: new Date(Date.now() - 1_000) })
      .execute();
    // An invite link past its 7 days, and one still valid.
    const ownerId = (
      await h.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'owner@demo.test')
        .executeTakeFirstOrThrow()
    ).id;
    await h.db
      .insertInto('invites')
      .values([
        {
          token_hash: 'expired-invite',
          user_id: ownerId,
          expires_at: new Date(Date.now() - 1_000),
        },
        {
          token_hash: 'valid-invite',
          user_id: ownerId,
          expires_at: new Date(Date.now() + 3_600_000),
        },
      ])
      .execute();
    await app.ready();
    await until(async () => !(await sessionExists(expired)), {
      what: 'the expired session pruned',
    });
    await until(
      async () =>
        (
          await h.db
            .selectFrom('login_throttle')
            .where('key', '=', 'ended-window')
            .select('key')
            .execute()
        ).length === 0,
      { what: 'the ended throttle window pruned' },
    );
    const invites = async () =>
      (await h.db.selectFrom('invites').select('token_hash').execute()).map((i) => i.token_hash);
    await until(async () => !(await invites()).includes('expired-invite'), {
      what: 'the expired invite pruned',
    });
    expect(await invites()).toContain('valid-invite');
    expect(await sessionExists(live)).toBe(true);
    expect(await me(live)).toBe(200);
  });
});
