import { afterAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { demoSeedDecision } from '../../src/access/directory-state.js';
import { freePort } from '../../src/db/embedded/recovery.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

// Production is not the demo: `runwarden start` seeds only an empty database, never once a
// directory exists, never with RUNWARDEN_DEMO=false; `serve` never seeds.
const running: CliProcess[] = [];
afterAll(async () => {
  for (const cli of running) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

const options = { enabled: true, demoWorkspaceSlug: 'contoso' };
const NO_CATALOG =
  /no operation catalog: RUNWARDEN_CONFIG is not set, so there are no operation types to start or run\. Point it at the module that exports your `catalog`, e\.g\. RUNWARDEN_CONFIG=catalog\.ts/;

async function readyLine(cli: CliProcess): Promise<{ types?: number }> {
  return JSON.parse(await cli.waitFor(/Runwarden is ready/, 60_000)) as { types?: number };
}

/** The operation types a `runwarden worker` registered, from its "worker started" line. */
async function workerTypes(env: Record<string, string>): Promise<string[]> {
  const worker = spawnCli(['worker', '--concurrency', '1', '--shutdown-grace', '0.5'], env);
  running.push(worker);
  const line = await worker.waitFor(/"msg":"worker started"/, 60_000);
  worker.child.kill('SIGTERM');
  expect((await worker.exited).code, worker.output()).toBe(0);
  return (JSON.parse(line) as { types: string[] }).types;
}

async function workspaces(t: TestDatabase) {
  return (await t.db.selectFrom('workspaces').select('slug').orderBy('slug').execute()).map(
    (w) => w.slug,
  );
}

describe('the demo seeding decision', () => {
  it('seeds an empty database or one holding only the demo; never a managed directory, foreign data or RUNWARDEN_DEMO=false', async () => {
    const t = await freshDatabase();
    expect(await demoSeedDecision(t.db, options)).toEqual({ seed: true });
    expect(await demoSeedDecision(t.db, { ...options, enabled: false })).toEqual({
      seed: false,
      reason: 'RUNWARDEN_DEMO=false',
    });
    // the demo already there: seeding again only refreshes it
    await t.db
      .insertInto('workspaces')
      .values({ id: uuidv7(), slug: 'contoso', name: 'Contoso' })
      .execute();
    expect(await demoSeedDecision(t.db, options)).toEqual({ seed: true });

    // rows written by hand that are not the demo's
    const foreign = await freshDatabase();
    await foreign.db
      .insertInto('users')
      .values({ id: uuidv7(), email: 'someone@host.example', name: 'Someone', password_hash: null })
      .execute();
    expect(await demoSeedDecision(foreign.db, options)).toMatchObject({ seed: false });

    // any directory write, even on a database that has the demo
    await createDirectory({ db: t.db }).upsertWorkspace({ slug: 'acme', name: 'Acme' });
    expect(await demoSeedDecision(t.db, options)).toEqual({
      seed: false,
      reason: 'a directory is managed here (runwarden admin …)',
    });
  });

  it('runwarden start after `admin sync` does not seed the demo', async () => {
    const t = await freshDatabase();
    await createDirectory({ db: t.db }).sync({ workspaces: [{ slug: 'acme', name: 'Acme' }] });
    const start = spawnCli(['start'], { DATABASE_URL: t.url, PORT: String(await freePort()) });
    running.push(start);
    await start.waitFor(/not seeding the demo: a directory is managed here/, 60_000);
    await start.waitFor(/Runwarden is running: /, 60_000);
    expect(start.output()).not.toContain('Demo logins');
    expect(start.output()).toMatch(NO_CATALOG);
    expect(await readyLine(start)).toMatchObject({ types: 0 });
    expect(await workspaces(t)).toEqual(['acme']);
    start.child.kill('SIGTERM');
    expect((await start.exited).code).toBe(0);
  }, 90_000);

  it('runwarden start with RUNWARDEN_DEMO=false leaves an empty database empty; serve never seeds', async () => {
    const t = await freshDatabase();
    const start = spawnCli(['start'], {
      DATABASE_URL: t.url,
      PORT: String(await freePort()),
      RUNWARDEN_DEMO: 'false',
    });
    running.push(start);
    await start.waitFor(/not seeding the demo: RUNWARDEN_DEMO=false/, 60_000);
    await start.waitFor(/Runwarden is running: /, 60_000);
    expect(start.output()).toMatch(NO_CATALOG);
    expect(await readyLine(start)).toMatchObject({ types: 0 });
    start.child.kill('SIGTERM');
    await start.exited;
    expect(await workspaces(t)).toEqual([]);

    const serve = spawnCli(['serve'], { DATABASE_URL: t.url, PORT: String(await freePort()) });
    running.push(serve);
    await serve.waitFor(/listening|ready/i, 60_000);
    serve.child.kill('SIGTERM');
    await serve.exited;
    expect(await workspaces(t)).toEqual([]);
    expect(await t.db.selectFrom('users').select('id').execute()).toEqual([]);
  }, 120_000);

  it('a RUNWARDEN_DEMO that is not true/false fails with a clear message', async () => {
    const cli = spawnCli(['migrate'], { RUNWARDEN_DEMO: 'maybe' });
    expect((await cli.exited).code).toBe(1);
    expect(cli.output()).toMatch(/Invalid configuration: RUNWARDEN_DEMO/);
  });

  it('without RUNWARDEN_CONFIG, worker and serve on a directory of their own offer no operation types and say how to add a catalog', async () => {
    const t = await freshDatabase();
    const directory = createDirectory({ db: t.db });
    await directory.sync({ workspaces: [{ slug: 'acme', name: 'Acme' }] });
    const { token } = await directory.createToken({
      workspace: 'acme',
      name: 'ops',
      role: 'owner',
    });
    const port = await freePort();
    const serve = spawnCli(['serve'], {
      DATABASE_URL: t.url,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    running.push(serve);
    await serve.waitFor(/Runwarden API listening/, 60_000);
    expect(serve.output()).toMatch(NO_CATALOG);
    const types = await fetch(`http://127.0.0.1:${port}/api/operation-types`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(types.status).toBe(200);
    expect(await types.json()).toEqual([]); // the start dialog offers nothing simulated
    serve.child.kill('SIGTERM');
    expect((await serve.exited).code).toBe(0);

    const worker = spawnCli(['worker', '--concurrency', '1', '--shutdown-grace', '0.5'], {
      DATABASE_URL: t.url,
    });
    running.push(worker);
    const line = await worker.waitFor(/"msg":"worker started"/, 60_000);
    expect(JSON.parse(line)).toMatchObject({ types: [] });
    expect(worker.output()).toMatch(NO_CATALOG);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  }, 120_000);

  it('a worker without RUNWARDEN_CONFIG runs the demo catalog only on the demo, never with RUNWARDEN_DEMO=false', async () => {
    const t = await freshDatabase();
    await t.db
      .insertInto('workspaces')
      .values({ id: uuidv7(), slug: 'contoso', name: 'Contoso' })
      .execute();
    const empty = await freshDatabase(); // a new install: no demo either
    const [off, none, on] = await Promise.all([
      workerTypes({ DATABASE_URL: t.url, RUNWARDEN_DEMO: 'false' }),
      workerTypes({ DATABASE_URL: empty.url }),
      workerTypes({ DATABASE_URL: t.url }),
    ]);
    expect(off).toEqual([]);
    expect(none).toEqual([]);
    expect(on).toEqual(expect.arrayContaining(['demo.sleep', 'inventory.sync', 'policy.sync']));
  }, 120_000);
});
