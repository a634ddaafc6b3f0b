import { beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { seedDemo } from '../../src/cli/demo-seed/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

// `runwarden pause|resume` as real child processes against a real database (DESIGN §13, §17).
const CATALOG = 'test/fixtures/demo-catalog.ts';
let t: TestDatabase;

beforeAll(async () => {
  t = await freshDatabase();
  const registry = new OperationRegistry(demoCatalog());
  await seedDemo({ db: t.db, registry }, { password: 'demo-password-for-tests', history: false });
});

async function run(args: string[]) {
  const cli = spawnCli(args, { DATABASE_URL: t.url, RUNWARDEN_CONFIG: CATALOG });
  const { code } = await cli.exited;
  const printed = cli
    .output()
    .split('\n')
    .filter((l) => l && !l.startsWith('{'))
    .join('\n');
  return { code, printed };
}

const pauses = () =>
  t.db
    .selectFrom('flow_pauses')
    .innerJoin('workspaces', 'workspaces.id', 'flow_pauses.workspace_id')
    .leftJoin('tenants', 'tenants.id', 'flow_pauses.tenant_id')
    .select(['workspaces.slug as workspace', 'tenants.slug as tenant', 'flow_pauses.type'])
    .orderBy('flow_pauses.created_at')
    .execute();

describe('runwarden pause and resume', () => {
  it.each([['pause'], ['resume']])('%s --help names its flags', async (verb) => {
    const cli = spawnCli([verb, '--help']);
    expect((await cli.exited).code).toBe(0);
    expect(cli.output()).toMatch(/^Usage: runwarden/m);
    expect(cli.output()).toMatch(/--workspace <slug>/);
    expect(cli.output()).toMatch(/--tenant <slug>/);
    expect(cli.output()).toMatch(/--type <type>/);
  });

  it('pauses a type for a tenant by slug, audited as the CLI; again changes nothing; resume lifts it', async () => {
    const scope = [
      '--workspace',
      'contoso',
      '--tenant',
      'contoso-prod',
      '--type',
      'inventory.sync',
    ];
    const paused = await run(['pause', ...scope]);
    expect(paused.code, paused.printed).toBe(0);
    expect(paused.printed).toMatch(
      /Paused type inventory.sync for tenant contoso-prod in workspace contoso \(pause [0-9a-f-]{36}\)/,
    );
    expect(paused.printed).toMatch(
      /runwarden resume --workspace contoso --tenant contoso-prod --type inventory.sync/,
    );
    expect(await pauses()).toEqual([
      { workspace: 'contoso', tenant: 'contoso-prod', type: 'inventory.sync' },
    ]);

    const again = await run(['pause', ...scope]);
    expect(again.code).toBe(0);
    expect(again.printed).toMatch(
      /^Type inventory.sync for tenant contoso-prod in workspace contoso is already paused since .*; nothing changed/m,
    );
    expect(await pauses()).toHaveLength(1);

    const resumed = await run(['resume', ...scope]);
    expect(resumed.code, resumed.printed).toBe(0);
    expect(resumed.printed).toMatch(/Resumed type inventory.sync for tenant contoso-prod/);
    expect(await pauses()).toEqual([]);
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_kind', 'actor_user_id', 'details'])
      .where('action', 'like', 'flow.%')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => [a.action, a.actor_kind, a.actor_user_id, a.details.source])).toEqual([
      ['flow.paused', 'system', null, 'cli'],
      ['flow.resumed', 'system', null, 'cli'],
    ]);
  });

  it('resume of a scope that is not paused exits 1, naming the pauses there', async () => {
    expect((await run(['pause', '--workspace', 'contoso', '--tenant', 'contoso-dev'])).code).toBe(
      0,
    );
    const wrong = await run(['resume', '--workspace', 'contoso', '--type', 'inventory.sync']);
    expect(wrong.code).toBe(1);
    expect(wrong.printed).toMatch(
      /Type inventory.sync in workspace contoso is not paused; nothing changed/,
    );
    expect(wrong.printed).toMatch(
      /tenant contoso-dev \(since .*\): resume with --tenant contoso-dev/,
    );
    expect(await pauses()).toHaveLength(1);
    expect((await run(['resume', '--workspace', 'contoso', '--tenant', 'contoso-dev'])).code).toBe(
      0,
    );
    const none = await run(['resume', '--workspace', 'contoso']);
    expect(none.code).toBe(1);
    expect(none.printed).toMatch(/Nothing is paused in contoso/);
  });

  it('pauses the whole workspace without --tenant and --type', async () => {
    const whole = await run(['pause', '--workspace', 'fabrikam']);
    expect(whole.code, whole.printed).toBe(0);
    expect(whole.printed).toMatch(/Paused everything in workspace fabrikam/);
    const resumed = await run(['resume', '--workspace', 'fabrikam']);
    expect(resumed.printed).toMatch(/Resumed everything in workspace fabrikam/);
    expect(await pauses()).toEqual([]);
  });

  it.each([
    [['--workspace', 'nowhere'], /There is no workspace "nowhere"/],
    [
      ['--workspace', 'contoso', '--tenant', 'fabrikam-prod'],
      /Workspace contoso has no tenant "fabrikam-prod"/,
    ],
    [
      ['--workspace', 'contoso', '--type', 'inventory.synk'],
      /there is no operation type "inventory.synk" in the catalog \(RUNWARDEN_CONFIG\); its types: .*inventory.sync/,
    ],
    [['--workspace', 'contoso', '--type', 'restore.execute'], /runs elsewhere \(external\)/],
    [['--tenant', 'contoso-prod'], /required option '--workspace <slug>' not specified/],
  ])('pause %j exits 1 with a clear message, writing nothing', async (args, message) => {
    const refused = await run(['pause', ...args]);
    expect(refused.code).toBe(1);
    expect(refused.printed).toMatch(message);
    expect(await pauses()).toEqual([]);
  });
});
