import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';

const PASSWORD = 'scale-out-demo-password';
const running: CliProcess[] = [];

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(running.map((p) => p.exited));
});

async function healthy(base: string) {
  await until(async () => (await fetch(`${base}/api/health`).catch(() => undefined))?.ok, {
    within: 60_000,
    every: 200,
    what: `${base}/api/health`,
  });
}

interface Started {
  run: { id: string };
  reused: boolean;
}

describe('several serve and worker processes on one DATABASE_URL', () => {
  it('migrate, seed-demo, two `serve` and two `worker` processes give one working API', async () => {
    const { url } = await freshDatabase({ empty: true });
    const env = { DATABASE_URL: url, RUNWARDEN_DEMO_PASSWORD: PASSWORD, RUNWARDEN_DEMO_SPEED: '0' };
    const migrate = spawnCli(['migrate'], env);
    expect((await migrate.exited).code, migrate.output()).toBe(0);
    const seed = spawnCli(['seed-demo'], env);
    expect((await seed.exited).code, seed.output()).toBe(0);
    for (const email of ['owner', 'operator', 'readonly', 'outsider', 'platform']) {
      expect(seed.output()).toContain(`${email}@demo.test`);
    }

    const ports = [await freePort(), await freePort()];
    for (const port of ports) running.push(spawnCli(['serve'], { ...env, PORT: String(port) }));
    for (let i = 0; i < 2; i++)
      running.push(spawnCli(['worker', '--concurrency', '2', '--shutdown-grace', '2'], env));
    const [one, two] = ports.map((port) => `http://127.0.0.1:${port}`) as [string, string];
    await healthy(one);
    await healthy(two);
    await Promise.all(running.slice(2).map((w) => w.waitFor(/worker started/i)));

    // Log in on one API process; the session (in PostgreSQL) works on the other.
    const login = await fetch(`${one}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'operator@demo.test', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const headers = { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
    const me = (await (await fetch(`${two}/api/me`, { headers })).json()) as {
      workspaces: Array<{ tenants: Array<{ id: string; slug: string }> }>;
    };
    const prod = me.workspaces[0]?.tenants.find((t) => t.slug === 'contoso-prod')?.id;
    const start = async (base: string, input: object) => {
      const res = await fetch(`${base}/api/workspaces/contoso/operations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'demo.sleep', tenantId: prod, input }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as Started;
    };
    const finished = (id: string) =>
      until(
        async () => {
          const run = (await (await fetch(`${two}/api/operations/${id}`, { headers })).json()) as {
            status: string;
            outcome: string;
            failures: Array<{ message: string }>;
          };
          return run.status === 'completed' ? run : undefined;
        },
        { within: 30_000, every: 100, what: `run ${id} to finish` },
      );

    const ok = await start(one, { seconds: 0.2, tag: 'scale-ok' });
    expect((await finished(ok.run.id)).outcome).toBe('succeeded');

    const bad = await start(two, { seconds: 0, outcome: 'throw', tag: 'scale-bad' });
    const failed = await finished(bad.run.id);
    expect(failed.outcome).toBe('failed');
    const text = JSON.stringify(failed.failures);
    expect(text).not.toMatch(/\s+at\s+\S+\s+\(/);
    expect(text).not.toMatch(/\.(ts|js):\d+/);

    const first = await start(one, { seconds: 30, tag: 'scale-dup' });
    const second = await start(two, { seconds: 30, tag: 'scale-dup' });
    expect(first.reused).toBe(false);
    expect(second).toMatchObject({ reused: true, run: { id: first.run.id } });
    // An operator may not cancel (403 from either process); the owner may.
    const denied = await fetch(`${two}/api/operations/${first.run.id}/cancel`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(denied.status).toBe(403);
    const ownerLogin = await fetch(`${two}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@demo.test', password: PASSWORD }),
    });
    const ownerCookie = (ownerLogin.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const ownerCsrf = ((await ownerLogin.json()) as { csrfToken: string }).csrfToken;
    const cancel = await fetch(`${one}/api/operations/${first.run.id}/cancel`, {
      method: 'POST',
      headers: { cookie: ownerCookie, 'x-csrf-token': ownerCsrf },
    });
    expect(cancel.status).toBe(200);

    const list = (await (
      await fetch(`${two}/api/workspaces/contoso/operations?type=demo.sleep`, { headers })
    ).json()) as {
      items: Array<{ id: string }>;
    };
    expect(list.items.map((r) => r.id)).toEqual(
      expect.arrayContaining([ok.run.id, bad.run.id, first.run.id]),
    );

    for (const p of running) p.child.kill('SIGTERM');
    const exits = await Promise.all(running.map((p) => p.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
  });

  it('`runwarden start` on an empty database serves the API and prints the demo logins within 60 s', async () => {
    const { url } = await freshDatabase({ empty: true });
    const port = await freePort();
    const t0 = Date.now();
    const start = spawnCli(['start'], {
      DATABASE_URL: url,
      PORT: String(port),
      RUNWARDEN_DEMO_PASSWORD: PASSWORD,
    });
    running.push(start);
    await start.waitFor(/Password for all of them: scale-out-demo-password/, 60_000);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(start.output()).toMatch(/Runwarden is running: http:\/\/localhost:\d+/);
    const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@demo.test', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    start.child.kill('SIGTERM');
    expect((await start.exited).code).toBe(0);
  });
});
