import { beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/uuid.js';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import {
  type As,
  badInputCallers,
  type Case,
  checkRefused,
  denied,
  directoryOf,
  directoryState,
  send,
  v,
} from './directory-support.js';

// DESIGN §11 for the access routes (issue #12): removing members, API tokens, passwords. Every
// bad request answers a 4xx `{error:{code,message}}` and leaves the directory exactly as it was.

// Single sign-on is configured (its provider is never reached: every case is refused before).
const h = await apiHarness({
  app: {
    signIn: {
      oidc: {
        issuer: 'https://127.0.0.1:9',
        clientId: 'runwarden',
        clientSecret: 'never-used',
        roleClaim: 'groups',
      },
      passwordLogin: true,
      publicUrl: 'http://localhost:3000',
    },
  },
});
const directory = directoryOf(h);
let callers: Record<As, Caller | undefined>;
/** A token of fabrikam (another workspace); the outsider, the owner and a readonly member. */
let fabrikamToken: string;
let outsiderId: string;
let ownerId: string;
let readonlyId: string;

const WS = '/api/workspaces';
const MEMBERS = '/api/workspaces/contoso/members';
const TOKENS = '/api/workspaces/contoso/tokens';
const PASSWORD = '/api/auth/password';
const ACCEPT = '/api/invitations/accept';
const SSO = '/api/auth/oidc/login';
const newPassword = 'a new long password';

beforeAll(async () => {
  callers = await badInputCallers(h);
  fabrikamToken = (
    await directory.createToken({ workspace: 'fabrikam', name: 'theirs', role: 'readonly' })
  ).id;
  outsiderId = callers.outsider?.userId as string;
  ownerId = callers.owner?.userId as string;
  readonlyId = await h.userId('readonly@demo.test');
});

const CASES: Case[] = [
  // ── DELETE /api/workspaces/:ws/members/:userId ─────────────────────────────────────────────
  v('remove member: not a uuid', () => send('DELETE', `${MEMBERS}/not-a-uuid`)),
  v('remove member: an email instead of the user id', () =>
    send('DELETE', `${MEMBERS}/readonly@demo.test`),
  ),
  {
    name: 'remove member: nobody with that id',
    request: () => send('DELETE', `${MEMBERS}/${uuidv7()}`),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'remove member: a member of another workspace only',
    request: () => send('DELETE', `${MEMBERS}/${outsiderId}`),
    status: 404,
    code: 'not_found',
  },
  {
    name: 'remove member: the last owner removing themselves',
    request: () => send('DELETE', `${MEMBERS}/${ownerId}`),
    status: 409,
    code: 'conflict',
  },
  denied('remove member: an operator', 'operator', () =>
    send('DELETE', `${MEMBERS}/${readonlyId}`),
  ),
  denied('remove member: a readonly token', 'readonlyToken', () =>
    send('DELETE', `${MEMBERS}/${readonlyId}`),
  ),
  denied('remove member: an outsider', 'outsider', () =>
    send('DELETE', `${MEMBERS}/${readonlyId}`),
  ),
  denied('remove member: anonymous', 'anonymous', () => send('DELETE', `${MEMBERS}/${readonlyId}`)),
  denied('remove member: cookie without x-csrf-token', 'noCsrf', () =>
    send('DELETE', `${MEMBERS}/${readonlyId}`),
  ),

  // ── POST/GET/DELETE /api/workspaces/:ws/tokens ─────────────────────────────────────────────
  v('token: an unknown field', () =>
    send('POST', TOKENS, { name: 'ci', role: 'readonly', expiresAt: '2030-01-01' }),
  ),
  v('token: role missing', () => send('POST', TOKENS, { name: 'ci' })),
  {
    name: 'token: unknown workspace',
    request: () => send('POST', `${WS}/nowhere/tokens`, { name: 'ci', role: 'readonly' }),
    status: 404,
    code: 'not_found',
  },
  denied('token: an outsider', 'outsider', () =>
    send('POST', TOKENS, { name: 'ci', role: 'readonly' }),
  ),
  denied('token: a readonly token', 'readonlyToken', () =>
    send('POST', TOKENS, { name: 'ci', role: 'owner' }),
  ),
  denied('tokens list: an operator', 'operator', () => send('GET', TOKENS)),
  denied('tokens list: an outsider', 'outsider', () => send('GET', TOKENS)),
  v('revoke token: not a uuid', () => send('DELETE', `${TOKENS}/not-a-uuid`)),
  {
    name: 'revoke token: no token with that id',
    request: () => send('DELETE', `${TOKENS}/${uuidv7()}`),
    status: 404,
    code: 'not_found',
  },
  {
    name: "revoke token: another workspace's token",
    request: () => send('DELETE', `${TOKENS}/${fabrikamToken}`),
    status: 404,
    code: 'not_found',
  },
  {
    name: "revoke token: platform staff, another workspace's token",
    as: 'staff',
    request: () => send('DELETE', `${TOKENS}/${fabrikamToken}`),
    status: 404,
    code: 'not_found',
  },
  denied('revoke token: an operator', 'operator', () =>
    send('DELETE', `${TOKENS}/${fabrikamToken}`),
  ),
  denied("revoke token: an outsider naming their own workspace's token", 'outsider', () =>
    send('DELETE', `${TOKENS}/${fabrikamToken}`),
  ),
  denied('revoke token: cookie without x-csrf-token', 'noCsrf', () =>
    send('DELETE', `${TOKENS}/${uuidv7()}`),
  ),

  // ── POST /api/auth/password ────────────────────────────────────────────────────────────────
  v('password: neither currentPassword nor inviteToken', () =>
    send('POST', PASSWORD, { newPassword }),
  ),
  v('password: both currentPassword and inviteToken', () =>
    send('POST', PASSWORD, { newPassword, currentPassword: DEMO_PASSWORD, inviteToken: 'rwi_x' }),
  ),
  v('password: a new password of 7 characters', () =>
    send('POST', PASSWORD, { newPassword: 'short12', currentPassword: DEMO_PASSWORD }),
  ),
  v('password: a new password of 1001 characters', () =>
    send('POST', PASSWORD, { newPassword: 'p'.repeat(1001), currentPassword: DEMO_PASSWORD }),
  ),
  v(
    'password: an empty invite token',
    () => send('POST', PASSWORD, { newPassword, inviteToken: '' }),
    'anonymous',
  ),
  v(
    'password: an invite token of 201 characters',
    () => send('POST', PASSWORD, { newPassword, inviteToken: `rwi_${'x'.repeat(197)}` }),
    'anonymous',
  ),
  v('password: an unknown field', () =>
    send('POST', PASSWORD, {
      newPassword,
      currentPassword: DEMO_PASSWORD,
      email: 'owner@demo.test',
    }),
  ),
  v('password: newPassword as a number', () =>
    send('POST', PASSWORD, { newPassword: 12345678, currentPassword: DEMO_PASSWORD }),
  ),
  {
    name: 'password: wrong current password',
    request: () => send('POST', PASSWORD, { newPassword, currentPassword: 'not-it' }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'password: empty current password',
    request: () => send('POST', PASSWORD, { newPassword, currentPassword: '' }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'password: anonymous with a current password',
    as: 'anonymous',
    request: () => send('POST', PASSWORD, { newPassword, currentPassword: DEMO_PASSWORD }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'password: an API token with a current password',
    as: 'readonlyToken',
    request: () => send('POST', PASSWORD, { newPassword, currentPassword: DEMO_PASSWORD }),
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'password: an unknown invite token',
    as: 'anonymous',
    request: () => send('POST', PASSWORD, { newPassword, inviteToken: 'rwi_not-a-real-one' }),
    status: 400,
    code: 'invite_invalid',
  },
  denied('password: cookie without x-csrf-token', 'noCsrf', () =>
    send('POST', PASSWORD, { newPassword, currentPassword: DEMO_PASSWORD }),
  ),

  // ── POST /api/invitations/accept ───────────────────────────────────────────────────────────
  v('accept: no token', () => send('POST', ACCEPT, { newPassword }), 'anonymous'),
  v(
    'accept: a new password of 7 characters',
    () => send('POST', ACCEPT, { token: 'rwm_x', newPassword: 'short12' }),
    'anonymous',
  ),
  v(
    'accept: a token of 201 characters',
    () => send('POST', ACCEPT, { token: `rwm_${'x'.repeat(197)}`, newPassword }),
    'anonymous',
  ),
  v('accept: an unknown field', () => send('POST', ACCEPT, { token: 'rwm_x', email: 'x@y.z' })),
  {
    name: 'accept: an unknown token, with a password',
    as: 'anonymous',
    request: () => send('POST', ACCEPT, { token: 'rwm_not-a-real-one', newPassword }),
    status: 400,
    code: 'invite_invalid',
  },
  {
    name: 'accept: an unknown token, signed in',
    request: () => send('POST', ACCEPT, { token: 'rwm_not-a-real-one' }),
    status: 400,
    code: 'invite_invalid',
  },
  {
    name: 'accept: anonymous without a password',
    as: 'anonymous',
    request: () => send('POST', ACCEPT, { token: 'rwm_not-a-real-one' }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'accept: an API token',
    as: 'readonlyToken',
    request: () => send('POST', ACCEPT, { token: 'rwm_not-a-real-one' }),
    status: 403,
    code: 'forbidden',
  },
  denied('accept: cookie without x-csrf-token', 'noCsrf', () =>
    send('POST', ACCEPT, { token: 'rwm_not-a-real-one' }),
  ),
  // ── GET /api/auth/oidc/login: redirect targets (DESIGN §10) ─────────────────────────────────
  // A hostile returnTo the schema takes falls back to `/` (test/security/redirects.test.ts);
  // these never get that far.
  v(
    'sso login: returnTo twice',
    () => send('GET', `${SSO}?returnTo=%2Fa&returnTo=%2Fb`),
    'anonymous',
  ),
  v(
    'sso login: returnTo over 2000 characters',
    () => send('GET', `${SSO}?returnTo=%2F${'a'.repeat(2000)}`),
    'anonymous',
  ),
  v(
    'sso login: returnTo with a NUL',
    () => send('GET', `${SSO}?returnTo=%2F%00%2Fevil.test`),
    'anonymous',
  ),
];

describe('bad input to the directory routes never yields a 500 and never changes stored state', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkRefused(h, callers, c);
  });
});

describe('revoking a token that is already revoked', () => {
  it('answers 204 again (idempotent, DESIGN §11) and changes nothing, not even the audit log', async () => {
    const { id } = await directory.createToken({
      workspace: 'contoso',
      name: 'twice',
      role: 'readonly',
    });
    const revoke = () => h.request(callers.owner, send('DELETE', `${TOKENS}/${id}`));
    expect((await revoke()).statusCode).toBe(204);
    const before = await directoryState(h);
    const again = await revoke();
    expect(again.statusCode, again.body).toBe(204);
    expect(await directoryState(h)).toEqual(before);
  });
});
