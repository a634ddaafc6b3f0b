import { describe, expect, it } from 'vitest';
import { LoginThrottle, throttleKey } from '../../src/access/login-throttle.js';
import { freshDatabase } from '../support/db.js';

const t = await freshDatabase({ max: 4 });
let clock = new Date('2030-01-01T00:00:00Z');
const throttle = new LoginThrottle(t.db, () => clock);
const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};
const rule = { name: 'test', max: 3, windowMs: 60_000 };

describe('LoginThrottle', () => {
  it('opens a window at the first attempt, refuses past the limit, and starts afresh after it ends', async () => {
    const allowed = [];
    for (let i = 0; i < 4; i++) allowed.push((await throttle.count(rule, 'a')).allowed);
    expect(allowed).toEqual([true, true, true, false]);
    advance(45_500);
    const refused = await throttle.count(rule, 'a');
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 15 });
    advance(14_500); // the window (60 s from the first attempt) has ended
    expect(await throttle.count(rule, 'a')).toMatchObject({ allowed: true, retryAfterSeconds: 60 });
  });

  it('keeps separate counts per subject and per rule, and forgives an attempt in its window only', async () => {
    const first = await throttle.count(rule, 'b');
    await throttle.count(rule, 'b');
    await throttle.count(rule, 'b');
    await throttle.forgive(first);
    expect((await throttle.count(rule, 'b')).allowed).toBe(true);
    expect((await throttle.count(rule, 'b')).allowed).toBe(false);
    expect((await throttle.count({ ...rule, max: 5 }, 'b')).allowed).toBe(true);
    expect((await throttle.count(rule, 'c')).allowed).toBe(true);
    // Forgiving an attempt of an ended window leaves the new window's count alone.
    advance(60_000);
    const fresh = await throttle.count(rule, 'b');
    await throttle.forgive(first);
    const row = await t.db
      .selectFrom('login_throttle')
      .select('attempts')
      .where('key', '=', fresh.key)
      .executeTakeFirstOrThrow();
    expect(row.attempts).toBe(1);
  });

  it('prunes ended windows in batches and keeps the live ones', async () => {
    await t.db.deleteFrom('login_throttle').execute();
    const live = await throttle.count(rule, 'live');
    const ended = new Date(clock.getTime() - 1);
    await t.db
      .insertInto('login_throttle')
      .values(
        Array.from({ length: 25 }, (_, i) => ({
          key: throttleKey(rule, `old${i}`),
          attempts: 1,
          expires_at: ended,
        })),
      )
      .execute();
    expect(await throttle.prune(10)).toBe(25);
    const keys = (await t.db.selectFrom('login_throttle').select('key').execute()).map(
      (r) => r.key,
    );
    expect(keys).toEqual([live.key]);
  });
});
