import { sql } from 'kysely';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';

/**
 * README "Connection budget" (DESIGN §16): each process kind holds at most its documented number
 * of PostgreSQL connections at peak. Real `serve`, `worker` and `start` processes on one
 * database, driven hard (a flood of API requests, a live stream, every job slot busy, sweeps
 * every second), while pg_stat_activity is sampled and grouped by application_name.
 */

const PASSWORD = 'budget-demo-password';
const spawned: CliProcess[] = [];
const report: string[] = [];

function spawn(args: string[], env: Record<string, string>): CliProcess {
  const cli = spawnCli(args, env);
  spawned.push(cli);
  return cli;
}

afterAll(async () => {
  for (const cli of spawned) if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
  await Promise.all(spawned.map((cli) => cli.exited));
  if (report.length)
    console.log(`peak connections per application_name:\n  ${report.join('\n  ')}`);
});

/**
 * Samples the client connections to database `name` until stopped (autovacuum workers show up in
 * pg_stat_activity too, without an application_name); keeps the peak per application_name.
 */
function sampleConnections(db: Db, name: string) {
  const peaks = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await sql<{ app: string; n: string }>`
        select application_name as app, count(*) as n from pg_stat_activity
         where datname = ${name} and pid <> pg_backend_pid() and backend_type = 'client backend'
         group by application_name`.execute(db);
      for (const row of rows) peaks.set(row.app, Math.max(peaks.get(row.app) ?? 0, Number(row.n)));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    peaks,
    async stop() {
      running = false;
      await loop;
      return peaks;
    },
  };
}

async function login(base: string, email: string): Promise<Record<string, string>> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith('runwarden_session='));
  return { cookie: cookie ?? '', 'x-csrf-token': csrfToken };
}

/** Holds the live stream open (the API's LISTEN connection) until the test ends. */
async function openStream(base: string, headers: Record<string, string>): Promise<void> {
  const abort = new AbortController();
  const res = await fetch(`${base}/api/stream`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  onTestFinished(() => abort.abort());
}

/** `total` concurrent requests, `width` at a time, against endpoints that each need a connection. */
async function flood(base: string, headers: Record<string, string>, total: number, width = 60) {
  const paths = ['/api/health', '/api/workspaces/contoso/operations?limit=20', '/api/me'];
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const path = paths[next++ % paths.length] ?? '/api/health';
      const res = await fetch(`${base}${path}`, { headers });
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

describe('connection budget', () => {
  it('refuses a RUNWARDEN_DB_POOL_SIZE too small for --concurrency, and says the rule', async () => {
    const cli = spawnCli(['worker', '--concurrency', '8'], {
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
      RUNWARDEN_DB_POOL_SIZE: '10',
    });
    expect((await cli.exited).code).toBe(1);
    expect(cli.output()).toMatch(
      /RUNWARDEN_DB_POOL_SIZE=10 is too small for `runwarden worker`: .*one connection per job slot \(--concurrency 8\) plus 3.*at least 11/,
    );
  });

  it('rejects a RUNWARDEN_DB_POOL_SIZE that is not a whole number of at least 2', async () => {
    for (const value of ['ten', '1', '2.5']) {
      const cli = spawnCli(['migrate'], { RUNWARDEN_DB_POOL_SIZE: value });
      expect((await cli.exited).code).toBe(1);
      expect(cli.output()).toMatch(/Invalid configuration: RUNWARDEN_DB_POOL_SIZE/);
    }
  });

  it('serve and worker --concurrency 8 stay within their budget with every slot busy and the API flooded', {
    timeout: 180_000,
  }, async () => {
    const { url, name } = await freshDatabase();
    const db = createDb(url, { max: 1, applicationName: 'budget-test' });
    onTestFinished(() => db.destroy());
    const env = {
      DATABASE_URL: url,
      RUNWARDEN_DEMO_PASSWORD: PASSWORD,
      RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
    };
    const seed = spawn(['seed-demo'], env);
    expect((await seed.exited).code, seed.output()).toBe(0);
    await until(
      async () => {
        const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
          where datname = ${name} and pid <> pg_backend_pid()`.execute(db);
        return Number(rows[0]?.n) === 0;
      },
      { within: 10_000, what: "seed-demo's connections to close" },
    );

    const sampler = sampleConnections(db, name);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const serve = spawn(['serve'], { ...env, PORT: String(port) });
    const worker = spawn(['worker', '--concurrency', '8', '--shutdown-grace', '3'], env);
    await Promise.all([
      serve.waitFor(/Runwarden API listening/, 60_000),
      worker.waitFor(/"msg":"worker started"/, 60_000),
    ]);
    const headers = await login(base, 'operator@demo.test');
    await openStream(base, headers);
    const me = (await (await fetch(`${base}/api/me`, { headers })).json()) as {
      workspaces: Array<{ slug: string; tenants: Array<{ id: string; slug: string }> }>;
    };
    const tenantId = me.workspaces
      .find((w) => w.slug === 'contoso')
      ?.tenants.find((t) => t.slug === 'contoso-prod')?.id;

    // Eight runs at once: every job slot of the worker busy, each reporting progress.
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${base}/api/workspaces/contoso/operations`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'demo.sleep',
          tenantId,
          input: { seconds: 6, total: 6, tag: `budget-${i}` },
        }),
      });
      expect(res.status, await res.clone().text()).toBe(202);
    }
    const busy = until(
      async () => {
        const { rows } = await sql<{ n: string }>`
          select count(*) as n from operation_runs r join workers w on w.id = r.worker_id
           where r.status = 'running' and w.pid = ${worker.child.pid}`.execute(db);
        return Number(rows[0]?.n) === 8;
      },
      { within: 30_000, every: 50, what: 'all eight job slots to run at once' },
    );
    await Promise.all([busy, flood(base, headers, 3_000)]);
    await flood(base, headers, 1_500); // while the eight runs finish
    await until(() => sampler.peaks.has('runwarden-heartbeat'), {
      within: 15_000,
      what: "the heartbeat thread's connection",
    });
    const peaks = await sampler.stop();

    const serveApp = peaks.get('runwarden-serve') ?? 0;
    const workerApp = peaks.get('runwarden-worker') ?? 0;
    const heartbeat = peaks.get('runwarden-heartbeat') ?? 0;
    for (const [app, n] of peaks) report.push(`${app}: ${n}`);
    expect([...peaks.keys()].sort()).toEqual([
      'runwarden-heartbeat',
      'runwarden-serve',
      'runwarden-worker',
    ]);
    expect(serveApp).toBeGreaterThan(1); // the flood did reach the pool
    expect(serveApp).toBeLessThanOrEqual(10); // serve: RUNWARDEN_DB_POOL_SIZE (default 10)
    expect(workerApp).toBeGreaterThan(1);
    expect(workerApp).toBeLessThanOrEqual(11); // worker: max(10, concurrency + 3)
    expect(heartbeat).toBe(1); // + the heartbeat thread's own connection
  });

  it('start (API, worker of 4 slots, reconciler in one pool) stays within 10 + 1', {
    timeout: 180_000,
  }, async () => {
    const { url, name } = await freshDatabase({ empty: true });
    const db = createDb(url, { max: 1, applicationName: 'budget-test' });
    onTestFinished(() => db.destroy());
    const sampler = sampleConnections(db, name);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const cli = spawn(['start'], {
      DATABASE_URL: url,
      PORT: String(port),
      RUNWARDEN_DEMO_PASSWORD: PASSWORD,
      RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
    });
    await cli.waitFor(/Runwarden is ready/, 90_000);
    const headers = await login(base, 'owner@demo.test');
    await openStream(base, headers);
    await flood(base, headers, 3_000);
    await until(() => sampler.peaks.has('runwarden-heartbeat'), {
      within: 15_000,
      what: "the heartbeat thread's connection",
    });
    const peaks = await sampler.stop();
    report.push(...[...peaks].map(([app, n]) => `${app} (start): ${n}`));
    expect(peaks.get('runwarden-start') ?? 0).toBeLessThanOrEqual(10);
    expect(peaks.get('runwarden-heartbeat') ?? 0).toBeLessThanOrEqual(1);
    // Migrations at boot have a pool of their own (no statement timeout), closed before the rest opens.
    expect(peaks.get('runwarden-migrate') ?? 0).toBeLessThanOrEqual(2);
    expect([...peaks.keys()].filter((app) => app !== 'runwarden-migrate').sort()).toEqual([
      'runwarden-heartbeat',
      'runwarden-start',
    ]);
  });
});
