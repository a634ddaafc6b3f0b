import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { apiHarness } from '../support/http.js';

// Disabling a user ends their sessions and revokes their tokens in the same transaction (the
// directory's job). This is the backstop: a session or token of a disabled user that survived
// anyway (re-saved by a request in flight, or written before a race) is refused, never honoured.

const h = await apiHarness();

describe('a disabled user', () => {
  it('is refused on a session and on a token that outlived the disabling', async () => {
    const owner = await h.login('owner@demo.test');
    const created = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/tokens',
      payload: { name: 'outlives', role: 'readonly' },
    });
    expect(created.statusCode).toBe(201);
    const bearer = {
      name: 'token',
      headers: { authorization: `Bearer ${(created.json() as { token: string }).token}` },
    };
    expect((await h.request(owner, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);
    expect((await h.request(bearer, { method: 'GET', url: '/api/me' })).statusCode).toBe(200);

    // Only the flag, as if the session and token rows had survived the directory's cleanup.
    await sql`update users set disabled_at = now() where email = 'owner@demo.test'`.execute(h.t.db);

    expect((await h.request(owner, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    expect((await h.request(bearer, { method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });
});
