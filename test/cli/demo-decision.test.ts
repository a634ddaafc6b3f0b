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
});
