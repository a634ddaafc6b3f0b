import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantExactly } from '../../src/access/host-grants.js';
import { directoryOf, directoryStaff } from '../http/directory-support.js';
import { until } from '../support/db.js';
import { apiHarness, DEMO_PASSWORD } from '../support/http.js';
import { openStream, type SseStream } from '../support/sse.js';

// The security review of issue 20 (DESIGN §10, "only the verified owner of an email holds a
// credential for it"): what a workspace owner could still do with the link of an offer they made.
// Otto owns Fabrikam; Olivia owns Contoso. Every step over real HTTP; streams are real too, with a
// heartbeat of an hour, so only the directory's NOTIFY can end one.
const h = await apiHarness({ app: { streamHeartbeatMs: 3_600_000 } });
const directory = directoryOf(h);
const OTTOS_PASSWORD = 'otto chose this one';
let base = '';

type Headers = Record<string, string>;
interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function call(as: Headers | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...as, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, text } as Answer & {
    text: string;
  };
}

/** A session's headers, or the login's status when refused. */
async function signIn(email: string, password: string): Promise<Headers | number> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) return res.status;
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('runwarden_session='));
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: cookie?.split(';')[0] ?? '', 'x-csrf-token': csrfToken };
}

async function session(email: string, password: string): Promise<Headers> {
  const s = await signIn(email, password);
  if (typeof s === 'number') throw new Error(`login ${email}: ${s}`);
  return s;
}

const workspacesOf = async (as: Headers) => {
  const me = await call(as, 'GET', '/api/me');
  if (me.status !== 200) return me.status;
  return (me.body.workspaces as Array<{ slug: string; role: string }>).map(
    (w) => `${w.slug}:${w.role}`,
  );
};
const tokenOf = (link: unknown) => String(link).split('/invite/')[1] ?? '';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const account = (email: string) =>
  h.db
    .selectFrom('users')
    .select(['id', 'password_hash', 'password_origin'])
    .where('email', '=', email)
    .executeTakeFirst();

/** The rows an acceptance could write (the throttle's counters aside: they are the throttle). */
async function rows(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    'users',
    'memberships',
    'pending_memberships',
    'sessions',
    'invites',
    'api_tokens',
    'audit_log',
    'settings',
  ] as const) {
    const { n } = await h.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(n);
  }
  return counts;
}

const streams: SseStream[] = [];
async function liveStream(as: Headers, workspace: string): Promise<SseStream> {
  const s = await openStream(`${base}/api/stream?workspace=${workspace}`, as);
  streams.push(s);
  expect(s.status, s.body).toBe(200);
  await until(() => s.events.some((e) => e.event === 'ready'), { what: 'ready' });
  return s;
}

/** Otto offers `email` membership of Fabrikam and takes the link himself. */
async function offerTo(email: string, as: Headers = otto, ws = 'fabrikam', role = 'readonly') {
  const put = await call(as, 'PUT', `/api/workspaces/${ws}/members/${email}`, {
    role,
    tenantIds: null,
  });
  expect(put.status, put.text).toBe(201);
  return tokenOf(put.body.invite);
}

const acceptWithPassword = (token: string, newPassword: string) =>
  call(undefined, 'POST', '/api/invitations/accept', { token, newPassword });

/**
 * The pre-hijack: Otto offers `email`, accepts his own link with a password of his choosing (the
 * account is made), signs in as that email, mints a person token there and watches a stream.
 */
async function preHijack(email: string) {
  // As owner, so that the account may mint tokens.
  const accepted = await acceptWithPassword(
    await offerTo(email, otto, 'fabrikam', 'owner'),
    OTTOS_PASSWORD,
  );
  expect(accepted.status, accepted.text).toBe(204);
  const asVictim = await session(email, OTTOS_PASSWORD);
  const minted = await call(asVictim, 'POST', '/api/workspaces/fabrikam/tokens', {
    name: `minted as ${email}`,
    role: 'readonly',
  });
  expect(minted.status, minted.text).toBe(201);
  const token = String(minted.body.token);
  expect(await workspacesOf(asVictim)).toEqual(['fabrikam:owner']);
  return { session: asVictim, token, stream: await liveStream(asVictim, 'fabrikam') };
}

/** Nothing Otto opened as `email` works any more, and his password is gone. */
async function ottoIsOut(email: string, held: Awaited<ReturnType<typeof preHijack>>) {
  expect(await workspacesOf(held.session)).toBe(401);
  expect(
    (await call(bearer(held.token), 'GET', '/api/workspaces/fabrikam/operations')).status,
  ).toBe(401);
  await until(() => held.stream.ended, { what: `the stream Otto opened as ${email}: its end` });
  expect(await signIn(email, OTTOS_PASSWORD)).toBe(401);
}

let otto: Headers;
let olivia: Headers;

beforeAll(async () => {
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  otto = await session('outsider@demo.test', DEMO_PASSWORD);
  olivia = await session('owner@demo.test', DEMO_PASSWORD);
});

afterAll(() => {
  for (const s of streams) s.close();
});

describe('accepting an offer with a password says nothing of who has an account', () => {
  it('answers an existing account exactly like a new one, writes nothing for it, and leaves the offer to its person', async () => {
    const answers: Record<string, unknown> = {};
    for (const email of ['owner@demo.test', 'platform@demo.test', 'never-seen@corp.test']) {
      const token = await offerTo(email);
      const hashBefore = (await account(email))?.password_hash;
      const before = await rows();
      const accepted = await acceptWithPassword(token, 'otto guesses 123');
      answers[email] = [accepted.status, accepted.text];
      if (email === 'never-seen@corp.test') continue;
      // Nothing written anywhere, the password as it was.
      expect(await rows()).toEqual(before);
      expect((await account(email))?.password_hash).toBe(hashBefore);
      expect(await signIn(email, 'otto guesses 123')).toBe(401);
    }
    expect(answers['owner@demo.test']).toEqual([204, '']);
    expect(answers['platform@demo.test']).toEqual(answers['owner@demo.test']);
    expect(answers['never-seen@corp.test']).toEqual(answers['owner@demo.test']);

    // The offer is still pending, and its person accepts it signed in as themselves.
    const list = await call(otto, 'GET', '/api/workspaces/fabrikam/members');
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ email: 'owner@demo.test', pending: true }),
    );
    expect(await workspacesOf(await session('owner@demo.test', DEMO_PASSWORD))).toEqual([
      'contoso:owner',
    ]);
  });

  it('the person with the account signs in and opens the same link to join', async () => {
    const token = await freshOffer('platform@demo.test');
    expect((await acceptWithPassword(token, 'otto guesses 456')).status).toBe(204);
    const pat = await session('platform@demo.test', DEMO_PASSWORD);
    const accepted = await call(pat, 'POST', '/api/invitations/accept', { token });
    expect(accepted.status, accepted.text).toBe(204);
    expect(await workspacesOf(pat)).toEqual(['fabrikam:readonly']);
  });
});

/** Withdraws Otto's offer to `email` (if any) and makes a new one, for a link Otto holds. */
async function freshOffer(email: string): Promise<string> {
  const list = await call(otto, 'GET', '/api/workspaces/fabrikam/members');
  const pending = (list.body.items as Array<{ email: string; userId: string }>).find(
    (m) => m.email === email,
  );
  if (pending)
    expect(
      (await call(otto, 'DELETE', `/api/workspaces/fabrikam/members/${pending.userId}`)).status,
    ).toBe(204);
  return await offerTo(email);
}

describe('an account made through an offer link is trusted for that offer alone', () => {
  // Each way the host's own directory writes a membership (or platform rights) directly; `link`:
  // the fresh set-password link it hands its caller (none where the host signs people in).
  // The first replays the review's sequence as it was: Otto removes the account from Fabrikam
  // before the platform adds its email elsewhere, so nothing in Fabrikam points at it.
  const directWrites: Array<[string, (email: string) => Promise<string | undefined>]> = [
    [
      'platform staff over HTTP, after Otto removed it from Fabrikam',
      async (email) => {
        const staff = await directoryStaff(h);
        const put = await call(staff.headers, 'PUT', `/api/workspaces/contoso/members/${email}`, {
          role: 'owner',
          tenantIds: null,
        });
        expect(put.status, put.text).toBe(201);
        return put.body.invite as string | undefined;
      },
    ],
    [
      'the library (rw.directory.upsertMember)',
      async (email) =>
        (await directory.upsertMember({ workspace: 'contoso', email, role: 'owner' })).invite?.url,
    ],
    [
      'runwarden admin sync (a directory file)',
      async (email) => {
        const synced = await directory.sync({
          workspaces: [{ slug: 'contoso', name: 'Contoso', members: [{ email, role: 'owner' }] }],
        });
        return synced.invites.find((i) => i.email === email)?.url;
      },
    ],
    [
      'platform rights (rw.directory.setPlatformStaff)',
      async (email) =>
        (await directory.setPlatformStaff({ email, capabilities: ['system.ops.triage'] }))
          .invites[0]?.url,
    ],
    [
      "the embedding host's resolver (grantExactly)",
      async (email) => {
        await grantExactly(h.db, {
          email,
          name: 'The CFO',
          workspaces: [{ slug: 'contoso', role: 'owner' }],
        });
        return undefined;
      },
    ],
  ];

  it.each(directWrites)(
    "Otto's password and everything it opened go when %s adds the account; its person gets a link",
    async (path, write) => {
      const email = `cfo-${Math.random().toString(36).slice(2, 8)}@corp.test`;
      const held = await preHijack(email);
      const leaves = path.includes('removed it');
      if (leaves) {
        const list = await call(otto, 'GET', '/api/workspaces/fabrikam/members');
        const id = (list.body.items as Array<{ email: string; userId: string }>).find(
          (m) => m.email === email,
        )?.userId;
        const removed = await call(otto, 'DELETE', `/api/workspaces/fabrikam/members/${id}`);
        expect(removed.status).toBe(204);
        expect(await workspacesOf(held.session)).toEqual([]); // signed in, a member of nothing
      }

      const link = await write(email);
      await ottoIsOut(email, held);
      const row = await account(email);
      expect(row).toMatchObject({ password_hash: null, password_origin: null });
      const audit = await h.db
        .selectFrom('audit_log')
        .select('details')
        .where('action', '=', 'user.changed')
        .where('target_id', '=', row?.id as string)
        .execute();
      expect(audit.map((a) => a.details)).toContainEqual(
        expect.objectContaining({
          password: 'revoked',
          sessionsEnded: 1,
          // Removing him from Fabrikam revoked the token he minted there already.
          tokensRevoked: leaves ? [] : [expect.any(String)],
        }),
      );
      if (path.includes('grantExactly')) return expect(link).toBeUndefined(); // the host signs in
      // The email's person sets their own password through the fresh link and holds what the
      // platform gave them.
      expect(link).toMatch(/\/invite\/rwi_/);
      const redeemed = await call(undefined, 'POST', '/api/auth/password', {
        inviteToken: tokenOf(link),
        newPassword: 'the real cfo chose this',
      });
      expect(redeemed.status, redeemed.text).toBe(204);
      expect((await account(email))?.password_origin).toBe('invite');
      const cfo = await session(email, 'the real cfo chose this');
      const held2 = await workspacesOf(cfo);
      expect(held2).toEqual(
        path.includes('platform rights')
          ? ['fabrikam:owner']
          : leaves
            ? ['contoso:owner']
            : ['contoso:owner', 'fabrikam:owner'],
      );
    },
  );

  it("Otto, signed in as the account he made, cannot accept another owner's offer for it", async () => {
    const email = 'controller@corp.test';
    const held = await preHijack(email);
    const oliviasLink = await offerTo(email, olivia, 'contoso');
    const refused = await call(held.session, 'POST', '/api/invitations/accept', {
      token: oliviasLink,
    });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.error?.code).toBe('forbidden');
    expect(refused.body.error?.message).toMatch(/platform vouches for it/);
    expect(refused.body.error?.message).toMatch(/single sign-on|set a password through a link/);
    expect(await workspacesOf(held.session)).toEqual(['fabrikam:owner']);
    const contoso = await call(olivia, 'GET', '/api/workspaces/contoso/members');
    expect(contoso.body.items).toContainEqual(expect.objectContaining({ email, pending: true }));

    // Otto may still manage the account inside his own workspace: that vouches for nobody.
    const role = await call(otto, 'PUT', `/api/workspaces/fabrikam/members/${email}`, {
      role: 'operator',
      tenantIds: null,
    });
    expect(role.status, role.text).toBe(200);
    expect(await workspacesOf(held.session)).toEqual(['fabrikam:operator']);

    // Once the platform vouches (a set-password link from its directory), the person accepts.
    const { invite } = await directory.invite({ email });
    const redeemed = await call(undefined, 'POST', '/api/auth/password', {
      inviteToken: tokenOf(invite.url),
      newPassword: 'the controller chose this',
    });
    expect(redeemed.status).toBe(204);
    await ottoIsOut(email, held);
    const controller = await session(email, 'the controller chose this');
    const accepted = await call(controller, 'POST', '/api/invitations/accept', {
      token: oliviasLink,
    });
    expect(accepted.status, accepted.text).toBe(204);
    expect(await workspacesOf(controller)).toEqual(['contoso:readonly', 'fabrikam:operator']);
  });
});

describe('a set-password link ends what the previous password opened', () => {
  it('redeeming ends every session and revokes every person token of the account, at once for streams', async () => {
    const email = 'ceo@corp.test';
    const held = await preHijack(email);
    const service = await directory.createToken({
      workspace: 'fabrikam',
      name: 'ci',
      role: 'readonly',
    });
    const { invite } = await directory.invite({ email });
    const redeemed = await call(undefined, 'POST', '/api/auth/password', {
      inviteToken: tokenOf(invite.url),
      newPassword: 'the ceo chose this',
    });
    expect(redeemed.status, redeemed.text).toBe(204);

    await ottoIsOut(email, held);
    // A service token acts for the workspace, not this person: it stays.
    expect(
      (await call(bearer(service.token), 'GET', '/api/workspaces/fabrikam/operations')).status,
    ).toBe(200);
    const ceo = await session(email, 'the ceo chose this');
    expect(await workspacesOf(ceo)).toEqual(['fabrikam:owner']);
    const audit = await h.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'invite.redeem')
      .where('target_id', '=', (await account(email))?.id as string)
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({
      sessionsEnded: 1,
      tokensRevoked: [expect.any(String)],
      reason: expect.stringMatching(/previous password/),
    });
  });
});
