import { beforeAll, describe, expect, it } from 'vitest';
import { directoryOf } from '../http/directory-support.js';
import { apiHarness, DEMO_PASSWORD } from '../support/http.js';

// Issue 20, item 7 — "Tenancy is a boundary" (DESIGN §10): the attacks an owner of one workspace
// (Otto, owner of Fabrikam) made on the people of another (Contoso), replayed over real HTTP.
const h = await apiHarness();
const directory = directoryOf(h);
let base = '';

interface Session {
  cookie: string;
  csrf: string;
}
interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string } };
}

async function call(
  as: Session | string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (typeof as === 'string') headers.authorization = `Bearer ${as}`;
  else if (as) Object.assign(headers, { cookie: as.cookie, 'x-csrf-token': as.csrf });
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

async function signIn(email: string, password = DEMO_PASSWORD): Promise<Session> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status, `login ${email}`).toBe(200);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('runwarden_session='));
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: cookie?.split(';')[0] ?? '', csrf: csrfToken };
}

const F = '/api/workspaces/fabrikam';
const workspacesOf = async (s: Session) =>
  ((await call(s, 'GET', '/api/me')).body.workspaces as Array<{ slug: string; role: string }>).map(
    (w) => `${w.slug}:${w.role}`,
  );
const nameOf = async (email: string) =>
  (await h.db.selectFrom('users').select('name').where('email', '=', email).executeTakeFirst())
    ?.name;
const tokenOf = (invite: unknown) => String(invite).split('/invite/')[1] ?? '';

let otto: Session;

beforeAll(async () => {
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  otto = await signIn('outsider@demo.test');
});

describe("an owner of one workspace reaches for another workspace's people", () => {
  it("renaming: adding an existing person never changes their account's name, staff included", async () => {
    for (const [email, name] of [
      ['owner@demo.test', 'Olivia Owner'],
      ['platform@demo.test', 'Pat Platform'],
    ]) {
      const put = await call(otto, 'PUT', `${F}/members/${email}`, {
        role: 'readonly',
        tenantIds: null,
        name: 'Renamed by Otto',
      });
      expect(put.status, JSON.stringify(put.body)).toBe(201);
      expect(await nameOf(email as string)).toBe(name);
    }
    const olivia = await signIn('owner@demo.test');
    expect((await call(olivia, 'GET', '/api/me')).body.user).toMatchObject({
      name: 'Olivia Owner',
    });
    // Added, not joined: the pending membership grants nothing until she accepts.
    expect(await workspacesOf(olivia)).toEqual(['contoso:owner']);
    expect((await call(olivia, 'GET', `${F}/operations`)).status).toBe(404);
  });

  it('probing: adding an existing account answers exactly like adding an unknown email', async () => {
    const add = (email: string, name?: string) =>
      call(otto, 'PUT', `${F}/members/${email}`, {
        role: 'operator',
        tenantIds: null,
        ...(name ? { name } : {}),
      });
    const blank = (answer: unknown, email: string) =>
      JSON.parse(
        JSON.stringify(answer)
          .replaceAll(email, '<email>')
          .replaceAll(`"name":"${email.split('@')[0]}"`, '"name":"<local part>"')
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
          .replace(/\/invite\/[^"]+/g, '/invite/<token>'),
      );
    const existing = await add('readonly@demo.test');
    const unknown = await add('nobody-yet@demo.test');
    expect(existing.status).toBe(unknown.status);
    expect(blank(existing.body, 'readonly@demo.test')).toEqual(
      blank(unknown.body, 'nobody-yet@demo.test'),
    );
    expect(existing.body.invite).toMatch(/\/invite\//);
    expect(JSON.stringify(existing.body)).not.toContain('Rita');

    const named = await add('operator@demo.test', 'Given Name');
    const namedUnknown = await add('also-new@demo.test', 'Given Name');
    expect(blank(named.body, 'operator@demo.test')).toEqual(
      blank(namedUnknown.body, 'also-new@demo.test'),
    );

    const list = await call(otto, 'GET', `${F}/members`);
    const items = list.body.items as Array<{ email: string }>;
    const row = (email: string) =>
      blank(
        items.find((m) => m.email === email),
        email,
      );
    expect(row('readonly@demo.test')).toEqual(row('nobody-yet@demo.test'));
    expect(row('operator@demo.test')).toEqual(row('also-new@demo.test'));
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ email: 'readonly@demo.test', name: 'readonly', pending: true }),
    );
    expect(JSON.stringify(list.body)).not.toMatch(/Rita|Oscar|Olivia|Pat Platform/);
  });

  it("takeover: the link Otto holds for an existing account never sets that account's password", async () => {
    const put = await call(otto, 'PUT', `${F}/members/operator@demo.test`, {
      role: 'owner',
      tenantIds: null,
    });
    expect(put.status).toBe(200); // already pending in Fabrikam (Otto added them just before)
    const list = await call(otto, 'GET', `${F}/members`);
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ email: 'operator@demo.test', role: 'owner', pending: true }),
    );
    // Otto removes and adds again to hold a fresh link.
    const pending = (list.body.items as Array<{ email: string; userId: string }>).find(
      (m) => m.email === 'operator@demo.test',
    );
    expect((await call(otto, 'DELETE', `${F}/members/${pending?.userId}`)).status).toBe(204);
    const again = await call(otto, 'PUT', `${F}/members/operator@demo.test`, {
      role: 'owner',
      tenantIds: null,
    });
    expect(again.status).toBe(201);
    const token = tokenOf(again.body.invite);
    const viaPassword = await call(undefined, 'POST', '/api/auth/password', {
      inviteToken: token,
      newPassword: 'otto-owns-you-now',
    });
    expect(viaPassword.status).toBe(400);
    const viaAccept = await call(undefined, 'POST', '/api/invitations/accept', {
      token,
      newPassword: 'otto-owns-you-now',
    });
    // Answered like a new account's (204), so Otto learns nothing from it; nothing was written.
    expect(viaAccept.status).toBe(204);
    const stolen = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'operator@demo.test', password: 'otto-owns-you-now' }),
    });
    expect(stolen.status).toBe(401);
    // Otto, signed in as himself, cannot accept it for Oscar either.
    const asOtto = await call(otto, 'POST', '/api/invitations/accept', { token });
    expect(asOtto.status).toBe(403);
    const oscar = await signIn('operator@demo.test');
    expect(await workspacesOf(oscar)).toEqual(['contoso:operator']);
  });

  it('the person joins by accepting while signed in as that email; a new one by setting a password', async () => {
    const put = await call(otto, 'PUT', `${F}/members/readonly@demo.test`, {
      role: 'operator',
      tenantIds: null,
    });
    expect(put.status).toBe(200);
    // Rita's link was the one Otto got when adding her in the probing test: remove and add again.
    const rows = (await call(otto, 'GET', `${F}/members`)).body.items as Array<{
      email: string;
      userId: string;
    }>;
    const id = rows.find((m) => m.email === 'readonly@demo.test')?.userId;
    await call(otto, 'DELETE', `${F}/members/${id}`);
    const fresh = await call(otto, 'PUT', `${F}/members/readonly@demo.test`, {
      role: 'operator',
      tenantIds: null,
    });
    const token = tokenOf(fresh.body.invite);
    const rita = await signIn('readonly@demo.test');
    expect((await call(rita, 'GET', `${F}/operations`)).status).toBe(404);
    const { csrf: _, ...cookieOnly } = rita;
    expect(
      (await call({ ...cookieOnly, csrf: 'wrong' }, 'POST', '/api/invitations/accept', { token }))
        .status,
    ).toBe(403);
    expect((await call(rita, 'POST', '/api/invitations/accept', { token })).status).toBe(204);
    expect(await workspacesOf(rita)).toEqual(['contoso:readonly', 'fabrikam:operator']);
    expect((await call(rita, 'GET', `${F}/operations`)).status).toBe(200);
    const again = await call(rita, 'POST', '/api/invitations/accept', { token });
    expect(again.body.error?.code).toBe('invite_invalid');
    const listed = (await call(otto, 'GET', `${F}/members`)).body.items;
    expect(listed).toContainEqual(
      expect.objectContaining({
        email: 'readonly@demo.test',
        name: 'Rita Readonly',
        pending: false,
      }),
    );

    const newcomer = await call(otto, 'PUT', `${F}/members/brand-new@demo.test`, {
      role: 'readonly',
      tenantIds: null,
      name: 'Bree New',
    });
    const created = await call(undefined, 'POST', '/api/invitations/accept', {
      token: tokenOf(newcomer.body.invite),
      newPassword: 'bree-secret-1',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(204);
    const bree = await signIn('brand-new@demo.test', 'bree-secret-1');
    expect(await workspacesOf(bree)).toEqual(['fabrikam:readonly']);
    expect(await nameOf('brand-new@demo.test')).toBe('Bree New');
  });

  it('lock-out: removing someone from Fabrikam signs them out of nothing and revokes only its tokens', async () => {
    const oscar = await signIn('operator@demo.test');
    for (let round = 0; round < 2; round++) {
      // The host's own directory adds Oscar to Fabrikam directly (authoritative, no acceptance).
      const { member } = await directory.upsertMember({
        workspace: 'fabrikam',
        email: 'operator@demo.test',
        role: 'readonly',
      });
      const here = await directory.createToken({
        workspace: 'fabrikam',
        name: `oscar fabrikam ${round}`,
        role: 'readonly',
        as: 'operator@demo.test',
      });
      const home = await directory.createToken({
        workspace: 'contoso',
        name: `oscar contoso ${round}`,
        role: 'operator',
        as: 'operator@demo.test',
      });
      expect(await workspacesOf(oscar)).toEqual(['contoso:operator', 'fabrikam:readonly']);
      // A role change touches no session either.
      const role = await call(otto, 'PUT', `${F}/members/operator@demo.test`, {
        role: 'operator',
        tenantIds: null,
        name: 'Renamed by Otto',
      });
      expect(role.status).toBe(200);
      expect(await nameOf('operator@demo.test')).toBe('Oscar Operator');
      expect(await workspacesOf(oscar)).toEqual(['contoso:operator', 'fabrikam:operator']);

      expect((await call(otto, 'DELETE', `${F}/members/${member.userId}`)).status).toBe(204);
      expect((await call(oscar, 'GET', '/api/me')).status).toBe(200);
      expect(await workspacesOf(oscar)).toEqual(['contoso:operator']);
      expect((await call(oscar, 'GET', '/api/workspaces/contoso/operations')).status).toBe(200);
      expect((await call(oscar, 'GET', `${F}/operations`)).status).toBe(404);
      expect((await call(here.token, 'GET', `${F}/operations`)).status).toBe(401);
      expect((await call(home.token, 'GET', '/api/workspaces/contoso/operations')).status).toBe(
        200,
      );
    }
  });
});
