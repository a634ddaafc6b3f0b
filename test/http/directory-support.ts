import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { type ApiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';

/** The directory of a harness; invite links under a fixed public URL. */
export function directoryOf(h: ApiHarness) {
  return createDirectory({ db: h.db, publicUrl: 'https://ops.example.com' });
}

/** The one-time token of an invite URL (`…/invite/<token>`). */
export function inviteTokenOf(url: string | undefined): string {
  const token = url?.split('/invite/')[1];
  if (!token) throw new Error(`not an invite link: ${url}`);
  return token;
}

/** Platform staff holding only `platform.directory`, signed in (their invite redeemed over HTTP). */
export async function directoryStaff(h: ApiHarness, email = 'staff@demo.test'): Promise<Caller> {
  const staff = await directoryOf(h).setPlatformStaff({
    email,
    capabilities: ['platform.directory'],
  });
  const redeemed = await h.request(undefined, {
    method: 'POST',
    url: '/api/auth/password',
    payload: { inviteToken: inviteTokenOf(staff.invites[0]?.url), newPassword: DEMO_PASSWORD },
  });
  expect(redeemed.statusCode, redeemed.body).toBe(204);
  return await h.login(email);
}

/** A bearer API token of `role` in contoso, created by the owner over HTTP. */
export async function bearer(h: ApiHarness, owner: Caller, role: string): Promise<Caller> {
  const created = await h.request(owner, {
    method: 'POST',
    url: '/api/workspaces/contoso/tokens',
    payload: { name: `${role} token`, role },
  });
  expect(created.statusCode, created.body).toBe(201);
  return {
    name: `${role} token`,
    headers: { authorization: `Bearer ${(created.json() as { token: string }).token}` },
  };
}

/**
 * The directory's stored state, row by row (not just counts): a refused request must leave every
 * workspace, tenant, user, membership, token, invite and audit entry exactly as it was. Columns a
 * mere request touches (a token's last use, a session's expiry) are left out.
 */
export async function directoryState(h: ApiHarness) {
  const db = h.db;
  const count = async (table: 'audit_log' | 'sessions' | 'operation_runs') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    workspaces: await db.selectFrom('workspaces').selectAll().orderBy('id').execute(),
    tenants: await db.selectFrom('tenants').selectAll().orderBy('id').execute(),
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    memberships: await db.selectFrom('memberships').selectAll().orderBy('id').execute(),
    tokens: await db
      .selectFrom('api_tokens')
      .select(['id', 'workspace_id', 'name', 'role', 'token_hash', 'created_by', 'revoked_at'])
      .orderBy('id')
      .execute(),
    invites: await db.selectFrom('invites').selectAll().orderBy('token_hash').execute(),
    pending: await db.selectFrom('pending_memberships').selectAll().orderBy('id').execute(),
    marker: await db
      .selectFrom('settings')
      .selectAll()
      .where('key', '=', 'directory.managed_at')
      .execute(),
    audit: await count('audit_log'),
    sessions: await count('sessions'),
    runs: await count('operation_runs'),
  };
}

export type As =
  | 'owner'
  | 'operator'
  | 'outsider'
  | 'staff'
  | 'platform'
  | 'anonymous'
  | 'noCsrf'
  | 'readonlyToken';

/** The callers the bad-input tables send as: demo members, directory staff, a token, no CSRF. */
export async function badInputCallers(h: ApiHarness): Promise<Record<As, Caller | undefined>> {
  const owner = await h.login('owner@demo.test');
  const { 'x-csrf-token': _csrf, ...cookieOnly } = owner.headers;
  return {
    owner,
    operator: await h.login('operator@demo.test'),
    outsider: await h.login('outsider@demo.test'),
    platform: await h.login('platform@demo.test'),
    staff: await directoryStaff(h),
    anonymous: undefined,
    noCsrf: { name: 'owner without csrf', headers: cookieOnly },
    readonlyToken: await bearer(h, owner, 'readonly'),
  };
}

export const send = (
  method: 'POST' | 'PUT' | 'DELETE' | 'GET',
  url: string,
  payload?: unknown,
): InjectOptions => ({
  method,
  url,
  ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
});

export interface Case {
  name: string;
  /** Who sends it; the owner's session (cookie + CSRF) unless said otherwise. */
  as?: As;
  request: () => InjectOptions;
  status: number | number[];
  code: string | string[];
}

/** A request the schema refuses: 400 `validation_failed`. */
export const v = (name: string, request: () => InjectOptions, as?: As): Case => ({
  name,
  request,
  status: 400,
  code: 'validation_failed',
  ...(as ? { as } : {}),
});

/** A caller who may not: 401 anonymous, 404 not entitled to see it, 403 entitled but lacking. */
export const denied = (
  name: string,
  as: As,
  request: () => InjectOptions,
  status?: number,
): Case => {
  const s =
    status ?? ({ anonymous: 401, outsider: 404, platform: 404 } as Partial<Record<As, number>>)[as];
  const code =
    as === 'noCsrf'
      ? 'csrf_invalid'
      : ({ 401: 'unauthenticated', 404: 'not_found' } as Record<number, string>)[s ?? 403];
  return { name, as, request, status: s ?? 403, code: code ?? 'forbidden' };
};

const oneOf = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);

/** Sends the case and checks the status, the error shape and that nothing stored changed. */
export async function checkRefused(
  h: ApiHarness,
  callers: Record<As, Caller | undefined>,
  c: Case,
): Promise<void> {
  const before = await directoryState(h);
  const res = await h.request(callers[c.as ?? 'owner'], c.request());
  const after = await directoryState(h);
  expect.soft(oneOf(c.status), res.body).toContain(res.statusCode);
  expect.soft(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error?: { code: string; message: string } };
  expect.soft(Object.keys(body), res.body).toEqual(['error']);
  expect.soft(body.error?.message, res.body).toMatch(/\S/);
  expect.soft(oneOf(c.code), res.body).toContain(body.error?.code);
  expect(after, 'stored state after the request').toEqual(before);
}
