import { sql } from 'kysely';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { createDb } from '../../src/db/pool.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';

/**
 * DESIGN §13 / README "Scaling out": every process is stateless, so `migrate`, `seed-demo`, two
 * `serve` and two `worker` processes on one DATABASE_URL behave as one Runwarden; and `start`
 * on an empty database comes up with the demo. Real child processes, real sockets, no mocks.
 */

const PASSWORD = 'scale-out-demo-password';
const LOGINS = [
  'owner@demo.test',
  'operator@demo.test',
  'readonly@demo.test',
  'outsider@demo.test',
  'platform@demo.test',
];
const spawned: CliProcess[] = [];

function spawn(args: string[], env: Record<string, string>): CliProcess {
  const cli = spawnCli(args, env);
  spawned.push(cli);
  return cli;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to whatever still runs; SIGKILL what has not exited 30 s later. */
async function stop(processes: CliProcess[]) {
  const running = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  for (const p of running) p.child.kill('SIGTERM');
  const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 30_000));
  const outcomes = await Promise.all(running.map((p) => Promise.race([p.exited, deadline])));
  running.forEach((p, i) => {
    if (outcomes[i] === 'late') p.child.kill('SIGKILL');
  });
}

afterAll(async () => {
  await stop(spawned);
  await Promise.all(spawned.map((p) => p.exited));
});

interface RunView {
  id: string;
  type: string;
  status: 'queued' | 'running' | 'completed';
  outcome: string;
  failures: Array<{ code: string; message: string }>;
  timeline: Array<{ kind: string; payload: Record<string, unknown> }>;
  truth: { problemClass: string | null };
}

interface Session {
  headers: Record<string, string>;
  csrfToken: string;
}

async function login(base: string, email: string): Promise<Session> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as { user: { email: string }; csrfToken: string };
  expect(body.user.email).toBe(email);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith('runwarden_session='));
  expect(cookie, 'a session cookie').toBeDefined();
  return {
    csrfToken: body.csrfToken,
    headers: { cookie: cookie ?? '', 'x-csrf-token': body.csrfToken },
  };
}

async function healthy(base: string, cli: CliProcess) {
  await until(
    async () => {
      if (cli.child.exitCode !== null) throw new Error(`exited early; output:\n${cli.output()}`);
      const res = await fetch(`${base}/api/health`).catch(() => undefined);
      return res?.status === 200 && (await res.json());
    },
    { within: 90_000, every: 250, what: `${base}/api/health` },
  );
}

describe('several serve and worker processes on one DATABASE_URL', () => {
  it('migrate, seed-demo, two `serve` and two `worker` processes behave as one Runwarden', {
    timeout: 300_000,
  }, async () => {
    const { url, name } = await freshDatabase({ empty: true });
    // One connection of our own (max 1), so pg_stat_activity can tell it from the processes'.
    const db = createDb(url, { max: 1, applicationName: 'scale-out-test' });
    onTestFinished(() => db.destroy());
    const env = { DATABASE_URL: url, RUNWARDEN_DEMO_PASSWORD: PASSWORD, LOG_LEVEL: 'info' };

    const migrate = spawn(['migrate'], env);
    expect((await migrate.exited).code, migrate.output()).toBe(0);
    expect(migrate.output()).toMatch(/applied \d+ migration\(s\)/);

    const seed = spawn(['seed-demo'], env);
    expect((await seed.exited).code, seed.output()).toBe(0);
    for (const email of LOGINS) expect(seed.output()).toMatch(new RegExp(`^ {4}${email} `, 'm'));
    expect(seed.output()).toContain(`Password for all of them: ${PASSWORD}`);

    const ports = [await freePort(), await freePort()];
    expect(ports[0]).not.toBe(ports[1]);
    const serves = ports.map((port) => spawn(['serve'], { ...env, PORT: String(port) }));
    const workers = [0, 1].map(() =>
      spawn(['worker', '--concurrency', '2', '--shutdown-grace', '3'], env),
    );
    const [one, two] = ports.map((port) => `http://127.0.0.1:${port}`) as [string, string];
    await Promise.all([
      healthy(one, serves[0] as CliProcess),
      healthy(two, serves[1] as CliProcess),
      ...serves.map((s) => s.waitFor(/Runwarden API listening/, 90_000)),
      ...workers.map((w) => w.waitFor(/"msg":"worker started"/, 90_000)),
    ]);
    // Both workers registered themselves, each with its own process.
    const registered = await db.selectFrom('workers').select(['id', 'pid']).execute();
    const workerPids = workers.map((w) => w.child.pid);
    expect(registered.map((w) => w.pid).sort()).toEqual([...workerPids].sort());
    const ourWorkerIds = new Set(registered.map((w) => w.id));

    // Log in on serve #1; the session lives in PostgreSQL, so serve #2 accepts the same cookie.
    const operator = await login(one, 'operator@demo.test');
    const meRes = await fetch(`${two}/api/me`, { headers: operator.headers });
    expect(meRes.status).toBe(200);
    const me = (await meRes.json()) as {
      user: { email: string };
      workspaces: Array<{ slug: string; tenants: Array<{ id: string; slug: string }> }>;
    };
    expect(me.user.email).toBe('operator@demo.test');
    const prod = me.workspaces
      .find((w) => w.slug === 'contoso')
      ?.tenants.find((t) => t.slug === 'contoso-prod')?.id;
    expect(prod).toBeDefined();

    const start = async (base: string, input: Record<string, unknown>) => {
      const res = await fetch(`${base}/api/workspaces/contoso/operations`, {
        method: 'POST',
        headers: { ...operator.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'demo.sleep', tenantId: prod, input }),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      return (await res.json()) as { run: RunView; reused: boolean };
    };
    const detail = async (id: string) => {
      const res = await fetch(`${two}/api/operations/${id}`, { headers: operator.headers });
      expect(res.status).toBe(200);
      const text = await res.text();
      return { run: JSON.parse(text) as RunView, text };
    };
    const reaches = (id: string, status: RunView['status'], what: string) =>
      until(
        async () => {
          const { run, text } = await detail(id);
          return run.status === status ? { run, text } : undefined;
        },
        { within: 60_000, every: 100, what },
      );

    // 1. A short run started on serve #1, run by one of the workers, seen done on serve #2.
    const ok = await start(one, { seconds: 0.2 });
    expect(ok.reused).toBe(false);
    expect(ok.run.status).toMatch(/^(queued|running)$/); // a worker may already have it
    const done = (await reaches(ok.run.id, 'completed', 'the short run to finish')).run;
    expect(done.outcome).toBe('succeeded');
    // …by one of our two worker processes (its `running` event names the worker).
    const ranBy = done.timeline.find((e) => e.kind === 'running')?.payload.workerId;
    expect(ourWorkerIds.has(String(ranBy))).toBe(true);

    // 2. A handler that throws: the run fails with a sanitized failure (no stack, no paths).
    const bad = await start(one, { seconds: 0, outcome: 'throw' });
    const failed = await reaches(bad.run.id, 'completed', 'the throwing run to finish');
    expect(failed.run.outcome).toBe('failed');
    expect(failed.run.truth.problemClass).toBe('terminal_follow_up');
    expect(failed.run.failures.length).toBeGreaterThan(0);
    const failures = failed.run.failures.map((f) => f.message).join('\n');
    expect(failures).toMatch(/asked to throw/);
    expect(failures).not.toContain('    at ');
    expect(failures).not.toMatch(/^\s*at\s/m); // a V8 stack frame line
    expect(failures).not.toMatch(/\(\S+:\d+:\d+\)/); // "(file:line:col)"
    expect(failures).not.toMatch(/file:\/\/|\/work\/|node_modules|\/src\/|\.[cm]?[jt]s\b/);
    expect(failures).not.toContain('abc123secret'); // the token in the thrown message is redacted
    // Nothing else in the detail (timeline payloads, diagnostics) carries the stack either.
    expect(failed.text).not.toContain('    at ');
    expect(failed.text).not.toMatch(/\.[cm]?[jt]s:\d+:\d+/);

    // 3. The same long run started twice, once on each API process: one run, reused.
    const first = await start(one, { seconds: 30, tag: 'dup' });
    const second = await start(two, { seconds: 30, tag: 'dup' });
    expect(first.reused).toBe(false);
    expect(second.reused).toBe(true);
    expect(second.run.id).toBe(first.run.id);
    await reaches(first.run.id, 'running', 'a worker to pick up the long run');

    // An operator may view and start, not cancel (403 from either process); the owner may.
    const denied = await fetch(`${two}/api/operations/${first.run.id}/cancel`, {
      method: 'POST',
      headers: operator.headers,
    });
    expect(denied.status).toBe(403);
    const owner = await login(two, 'owner@demo.test');
    const cancel = await fetch(`${one}/api/operations/${first.run.id}/cancel`, {
      method: 'POST',
      headers: owner.headers,
    });
    expect(cancel.status, await cancel.clone().text()).toBe(200);
    expect(((await cancel.json()) as { effect: string }).effect).toMatch(
      /^(cancelled|cancel_requested)$/,
    );
    // The worker running it (another process) sees the request and ends the run cancelled.
    const cancelled = await reaches(first.run.id, 'completed', 'the long run to end cancelled');
    expect(cancelled.run.outcome).toBe('cancelled');

    // 4. The list on serve #2 shows the three runs among the demo history, newest first.
    const listed = async (query: string) => {
      const res = await fetch(`${two}/api/workspaces/contoso/operations${query}`, {
        headers: operator.headers,
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { items: RunView[] }).items;
    };
    const all = await listed('?limit=50');
    expect(all.map((r) => r.id)).toEqual(
      expect.arrayContaining([first.run.id, bad.run.id, ok.run.id]),
    );
    const sleeps = await listed('?type=demo.sleep');
    expect(sleeps.map((r) => r.id)).toEqual([first.run.id, bad.run.id, ok.run.id]);
    expect(sleeps.map((r) => r.outcome)).toEqual(['cancelled', 'failed', 'succeeded']);
    expect((await listed('?bucket=terminal_follow_up')).map((r) => r.id)).toContain(bad.run.id);

    // 5. SIGTERM stops every process cleanly; nothing is left running or connected.
    const serving = [...serves, ...workers];
    for (const p of serving) p.child.kill('SIGTERM');
    const exits = await Promise.all(serving.map((p) => p.exited));
    expect(
      exits.map((e) => e.code),
      serving.map((p) => p.output()).join('\n'),
    ).toEqual([0, 0, 0, 0]);
    for (const p of serving) expect(alive(p.child.pid)).toBe(false);
    const stopped = await db.selectFrom('workers').select(['pid', 'stopped_at']).execute();
    expect(stopped.every((w) => w.stopped_at !== null)).toBe(true);
    await until(
      async () => {
        const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
          where datname = ${name} and pid <> pg_backend_pid()`.execute(db);
        return Number(rows[0]?.n) === 0;
      },
      { within: 10_000, what: 'every connection of the stopped processes to close' },
    );
  });

  it('`runwarden start` on an empty DATABASE_URL prints the URL and the demo logins within 60 s and serves the API', {
    timeout: 180_000,
  }, async () => {
    const { url } = await freshDatabase({ empty: true });
    const port = await freePort();
    const cli = spawn(['start'], {
      DATABASE_URL: url,
      PORT: String(port),
      RUNWARDEN_DEMO_PASSWORD: PASSWORD,
    });
    await cli.waitFor(/Password for all of them: /, 60_000);
    const out = cli.output();
    expect(out).toContain(`Runwarden is running: http://localhost:${port}`);
    for (const email of LOGINS) expect(out).toMatch(new RegExp(`^ {4}${email} `, 'm'));
    expect(out).toContain(`Password for all of them: ${PASSWORD}`);

    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok' });
    const owner = await login(base, 'owner@demo.test');
    const me = await fetch(`${base}/api/me`, { headers: owner.headers });
    expect(me.status).toBe(200);

    cli.child.kill('SIGTERM');
    expect((await cli.exited).code, cli.output()).toBe(0);
    expect(alive(cli.child.pid)).toBe(false);
  });
});
