import { beforeAll, describe, expect, it } from 'vitest';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import {
  type As,
  badInputCallers,
  directoryOf,
  directoryState,
  inviteTokenOf,
  send,
} from './directory-support.js';

// `POST /api/auth/password` beyond its bad-input table (issue #12): invites that no longer work,
// guessing the current password, and a password change voiding pending set-password links.

const h = await apiHarness();
const directory = directoryOf(h);
let callers: Record<As, Caller | undefined>;
const PASSWORD = '/api/auth/password';
const newPassword = 'a new long password';

beforeAll(async () => {
  callers = await badInputCallers(h);
});

// One answer, 400 `invite_invalid`: an expired invite is deleted by the access pruner and a disabled
// user's invites at once, so a used, expired or voided link must answer exactly like one that never
// existed (the invite page's "ask for a new link" hint keys on that code).
describe('an invite that no longer works answers 400 like an unknown one and changes nothing', () => {
  const redeem = (inviteToken: string) =>
    h.request(undefined, {
      method: 'POST',
      url: PASSWORD,
      payload: { inviteToken, newPassword },
    });
  /** A new member of contoso and the token of their one-time invite. */
  const invited = async (email: string) => {
    const added = await directory.upsertMember({ workspace: 'contoso', email, role: 'readonly' });
    return { userId: added.member.userId, token: inviteTokenOf(added.invite?.url) };
  };
  const refusedLikeUnknown = async (token: string) => {
    const unknown = await redeem('rwi_not-a-real-one');
    const before = await directoryState(h);
    const res = await redeem(token);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invite_invalid' } });
    expect(res.body).toBe(unknown.body);
    expect(await directoryState(h)).toEqual(before);
  };

  it('a used invite', async () => {
    const { token } = await invited('used-invite@demo.test');
    expect((await redeem(token)).statusCode).toBe(204);
    await refusedLikeUnknown(token);
  });

  it('an expired invite (its row back-dated past 7 days)', async () => {
    const { userId, token } = await invited('expired-invite@demo.test');
    const past = (days: number) => new Date(Date.now() - days * 86_400_000);
    await h.db
      .updateTable('invites')
      .set({ created_at: past(8), expires_at: past(1) })
      .where('user_id', '=', userId)
      .execute();
    await refusedLikeUnknown(token);
  });

  it('the invite of a user disabled since (disabling voids it)', async () => {
    const { token } = await invited('disabled-invite@demo.test');
    await directory.disableUser({ email: 'disabled-invite@demo.test' });
    await refusedLikeUnknown(token);
  });

  it('the invite of a user disabled since, even if the invite row survived', async () => {
    const { userId, token } = await invited('disabled-row@demo.test');
    await h.db
      .updateTable('users')
      .set({ disabled_at: new Date() })
      .where('id', '=', userId)
      .execute();
    await refusedLikeUnknown(token);
  });
});

describe('guessing the current password from a session', () => {
  it('is throttled like logins: after 10 wrong guesses even the right one answers 429', async () => {
    const guess = (currentPassword: string) =>
      h.request(callers.operator, send('POST', PASSWORD, { currentPassword, newPassword }));
    for (let i = 0; i < 10; i++) expect((await guess(`wrong-${i}`)).statusCode).toBe(403);
    const before = await directoryState(h);
    const refused = await guess(DEMO_PASSWORD);
    expect(refused.statusCode, refused.body).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await directoryState(h)).toEqual(before);
  });
});

describe('changing your own password', () => {
  it('voids a pending set-password link of yours, so it cannot undo the change', async () => {
    const { invite } = await directory.invite({ email: 'owner@demo.test' });
    const changed = await h.request(
      callers.owner,
      send('POST', PASSWORD, { currentPassword: DEMO_PASSWORD, newPassword: DEMO_PASSWORD }),
    );
    expect(changed.statusCode, changed.body).toBe(204);
    const before = await directoryState(h);
    const res = await h.request(
      undefined,
      send('POST', PASSWORD, { inviteToken: inviteTokenOf(invite.url), newPassword }),
    );
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invite_invalid' } });
    expect(await directoryState(h)).toEqual(before);
  });
});
