import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/db.js';
import { Jar } from '../support/oidc-provider.js';
import { corpusName, FRIENDLY_TARGETS, HOSTILE_TARGETS } from '../support/redirect-corpus.js';
import { ssoServe } from '../support/sso-serve.js';

// Issue 20, item 3 (DESIGN §10: every redirect target is a same-origin path after normalization):
// each `returnTo` of the corpus goes through a whole sign-in, login → provider → callback, on a
// real `runwarden serve`; where the browser lands must be a path of this origin. A newline used to
// make the callback's Location header throw and the process exit.

const t = await freshDatabase();
const sso = await ssoServe(t.url, {
  erin: { email: 'erin@example.com', name: 'Erin', groups: [] },
});
const { rw, provider } = sso;
provider.signingIn = 'erin';

/**
 * Signs in starting from `returnTo`: where the browser lands (a path here, or a foreign URL), or
 * the error code when the login refuses the target itself (a NUL, over 2000 characters).
 */
async function landing(returnTo: string): Promise<string> {
  const login = new URL('/api/auth/oidc/login', rw);
  login.searchParams.set('returnTo', returnTo);
  const jar = new Jar();
  const first = await provider.send(login, jar);
  if (first.status === 400)
    return `400 ${(JSON.parse(first.body) as { error: { code: string } }).error.code}`;
  return (await provider.follow(login, new Jar(), rw)).landed;
}

async function stillServing(): Promise<void> {
  expect(sso.cli().child.exitCode).toBeNull();
  expect((await provider.send(new URL('/api/health', rw), new Jar())).status).toBe(200);
}

describe('OIDC returnTo: the sign-in lands on a same-origin path (issue 20, item 3)', () => {
  it('a newline in returnTo (the crash of the issue) signs in to / and the server keeps serving', async () => {
    const jar = new Jar();
    const login = new URL(`${rw}/api/auth/oidc/login?returnTo=%2F%0A%2Fx`);
    const { landed } = await provider.follow(login, jar, rw);
    expect(landed).toBe('/');
    await stillServing();
    expect((await provider.send(new URL('/api/me', rw), jar)).status).toBe(200);
  });

  it('a tab (browsers strip it: //evil.test) signs in to /', async () => {
    const { landed } = await provider.follow(
      new URL(`${rw}/api/auth/oidc/login?returnTo=%2F%09%2Fevil.test`),
      new Jar(),
      rw,
    );
    expect(landed).toBe('/');
  });

  it.each(HOSTILE_TARGETS.map((target) => [corpusName(target), target]))(
    'returnTo %s lands on / (or is refused with a 400)',
    async (_name, target) => {
      expect(['/', '400 validation_failed']).toContain(await landing(target));
    },
  );

  it.each(FRIENDLY_TARGETS)('returnTo %s lands on %s', async (target, path) => {
    expect(await landing(target)).toBe(path);
  });

  it('after the whole corpus the process still serves, and never answered 500', async () => {
    await stillServing();
    expect(sso.cli().output()).not.toMatch(/"statusCode":500|ERR_INVALID_CHAR/);
  });
});
