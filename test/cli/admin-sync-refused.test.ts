import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

// `runwarden admin sync` refusing a file (DESIGN §13, issue #12): exit 1 and nothing written, the
// file applied in one transaction, whether it fails validation or while being applied.
let t: TestDatabase;
let dir: string;

async function admin(args: string[]) {
  const cli = spawnCli(['admin', ...args], {
    DATABASE_URL: t.url,
    RUNWARDEN_PUBLIC_URL: 'https://ops.example.com',
  });
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}

async function write(name: string, content: unknown) {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(content));
  return file;
}

async function rowCounts() {
  const out: Record<string, number> = {};
  for (const table of [
    'workspaces',
    'tenants',
    'users',
    'memberships',
    'invites',
    'audit_log',
  ] as const) {
    const row = await t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

beforeAll(async () => {
  t = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'runwarden-admin-sync-'));
  const applied = await admin([
    'sync',
    '--file',
    await write('acme.json', {
      workspaces: [
        {
          slug: 'acme',
          name: 'Acme',
          tenants: [{ slug: 'acme-prod', name: 'Acme Production' }],
          members: [{ email: 'owner@acme.example', role: 'owner' }],
        },
      ],
    }),
  ]);
  expect(applied.code, applied.output).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runwarden admin sync refuses a file whole', () => {
  it('sync: a file that fails while being applied exits 1 and writes nothing (one transaction)', async () => {
    // Valid in shape: a new workspace first, then acme's only owner demoted, which the directory
    // refuses at commit. Nothing of the file stays, not even the workspace listed before.
    const before = await rowCounts();
    const roles = () =>
      t.db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.email', 'memberships.role', 'memberships.tenant_ids'])
        .orderBy('users.email')
        .execute();
    const rolesBefore = await roles();
    const file = await write('last-owner.json', {
      workspaces: [
        {
          slug: 'globex',
          name: 'Globex',
          tenants: [{ slug: 'globex-prod', name: 'Globex Production' }],
          members: [{ email: 'hank@globex.example', role: 'owner' }],
        },
        {
          slug: 'acme',
          name: 'Acme Renamed',
          tenants: [{ slug: 'acme-prod', name: 'Acme Production' }],
          members: [{ email: 'owner@acme.example', role: 'readonly', tenants: ['acme-prod'] }],
        },
      ],
    });
    const result = await admin(['sync', '--file', file]);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain('Workspace acme would be left without an owner');
    expect(result.output).not.toContain('/invite/');
    expect(await rowCounts()).toEqual(before);
    expect(await roles()).toEqual(rolesBefore);
    const workspaces = await t.db.selectFrom('workspaces').select(['slug', 'name']).execute();
    expect(workspaces).toEqual([{ slug: 'acme', name: 'Acme' }]);
  });

  it('sync: unknown fields, duplicate slugs and a foreign tenant slug fail validation, writing nothing', async () => {
    const before = await rowCounts();
    const result = await admin([
      'sync',
      '--file',
      await write('strict.json', {
        workspaces: [
          { slug: 'acme', name: 'Acme', owner: 'someone@acme.example' },
          { slug: 'acme', name: 'Acme again' },
          {
            slug: 'globex',
            name: 'Globex',
            tenants: [
              { slug: 'globex-prod', name: 'P' },
              { slug: 'globex-prod', name: 'Q' },
            ],
            members: [{ email: 'x@globex.example', role: 'operator', tenants: ['acme-prod'] }],
          },
        ],
      }),
    ]);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain('nothing was written');
    expect(result.output).toMatch(/- workspaces\.0: .*owner/);
    expect(result.output).toContain('workspace acme is listed twice');
    expect(result.output).toContain('tenant globex-prod is listed twice');
    expect(result.output).toContain('tenant acme-prod is not listed in workspace globex');
    expect(await rowCounts()).toEqual(before);
  });
});
