import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/access/passwords.js';
import { redeemToken } from '../../src/access/tokens.js';
import { spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

// `runwarden admin …` as real child processes against a real database (DESIGN §13).
const ROOT = path.resolve(import.meta.dirname, '../..');
let t: TestDatabase;
let dir: string;
const PUBLIC_URL = 'https://ops.example.com';

beforeAll(async () => {
  t = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'runwarden-admin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function admin(args: string[], url = t.url) {
  const cli = spawnCli(['admin', ...args], { DATABASE_URL: url, RUNWARDEN_PUBLIC_URL: PUBLIC_URL });
  const { code } = await cli.exited;
  const output = cli.output();
  // what the command printed for people (not its JSON log lines)
  const printed = output
    .split('\n')
    .filter((l) => l && !l.startsWith('{'))
    .join('\n');
  return { code, output, printed };
}

/** The CLI with `input` on its standard input (for --password-stdin). */
function adminWithStdin(args: string[], input: string, url: string) {
  const { DATABASE_URL: _ignored, ...base } = process.env;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'admin', ...args],
    { cwd: ROOT, env: { ...base, DATABASE_URL: url, LOG_LEVEL: 'info' }, stdio: 'pipe' },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stdin.end(input);
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  );
}

async function write(name: string, content: unknown) {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

async function rowCounts() {
  const out: Record<string, number> = {};
  for (const table of ['workspaces', 'tenants', 'users', 'memberships', 'invites'] as const) {
    const row = await t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

const directory = {
  workspaces: [
    {
      slug: 'acme',
      name: 'Acme',
      tenants: [
        { slug: 'acme-prod', name: 'Acme Production', status: 'active' },
        { slug: 'acme-dev', name: 'Acme Development', status: 'active' },
      ],
      members: [
        { email: 'owner@acme.example', name: 'Olive', role: 'owner', tenants: null },
        { email: 'ops@acme.example', role: 'operator', tenants: ['acme-prod'] },
      ],
    },
  ],
  platformStaff: [{ email: 'sre@host.example', capabilities: ['system.ops.view'] }],
};

describe('runwarden admin', () => {
  it('documents every verb in --help', async () => {
    const top = await admin(['--help']);
    expect(top.code).toBe(0);
    for (const verb of ['bootstrap', 'sync', 'token']) expect(top.output).toContain(verb);
    const sync = await admin(['sync', '--help']);
    expect(sync.output).toContain('--prune');
    expect(sync.output).toContain('"platformStaff"');
    const token = await admin(['token', 'create', '--help']);
    expect(token.output).toContain('--role <role>');
    expect(token.output).toContain('service token');
  });

  it('bootstrap creates the first platform admin with a one-time link, then refuses a second', async () => {
    const first = await admin(['bootstrap', '--email', 'Admin@Host.example', '--name', 'Ada']);
    expect(first.code, first.output).toBe(0);
    const link = first.printed.match(/https:\/\/ops\.example\.com\/invite\/(rwi_[\w-]+)/);
    expect(link).not.toBeNull();
    // the link appears once, in what the command printed, never in a log line
    const token = link?.[1] as string;
    expect(first.output.split('\n').filter((l) => l.includes(token))).toHaveLength(1);
    const user = await t.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'admin@host.example')
      .executeTakeFirstOrThrow();
    expect([...user.platform_capabilities].sort()).toEqual([
      'platform.directory',
      'system.ops.triage',
      'system.ops.view',
    ]);

    const second = await admin(['bootstrap', '--email', 'other@host.example']);
    expect(second.code).toBe(1);
    expect(second.output).toContain('already has a platform admin');
  });

  it('bootstrap --password-stdin sets the password instead of printing a link', async () => {
    const other = await freshDatabase();
    const result = await adminWithStdin(
      ['bootstrap', '--email', 'root@host.example', '--password-stdin'],
      'a long password\n',
      other.url,
    );
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain('/invite/');
    const user = await other.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'root@host.example')
      .executeTakeFirstOrThrow();
    expect(await verifyPassword(user.password_hash as string, 'a long password')).toBe(true);
    expect(result.output).not.toContain('a long password');
  });

  it('sync: a bad file exits 1 listing its problems and writes nothing', async () => {
    const before = await rowCounts();
    const bad = await write('bad.json', {
      workspaces: [
        {
          slug: 'Not A Slug',
          name: 'X',
          tenants: [],
          members: [{ email: 'nope', role: 'king', tenants: ['ghost'] }],
        },
      ],
    });
    const result = await admin(['sync', '--file', bad]);
    expect(result.code).toBe(1);
    expect(result.output).toContain('nothing was written');
    expect(result.output).toMatch(/- workspaces\.0\.slug: /);
    expect(result.output).toMatch(/- workspaces\.0\.members\.0\.email: /);
    expect(result.output).toMatch(/- workspaces\.0\.members\.0\.role: /);
    // cross-references are checked once the shape is right
    const dangling = await admin([
      'sync',
      '--file',
      await write('dangling.json', {
        workspaces: [
          {
            slug: 'x',
            name: 'X',
            members: [{ email: 'a@x.example', role: 'owner', tenants: ['ghost'] }],
          },
        ],
      }),
    ]);
    expect(dangling.code).toBe(1);
    expect(dangling.output).toContain('tenant ghost is not listed in workspace x');
    const notJson = await admin(['sync', '--file', await write('broken.json', '{"workspaces": [')]);
    expect(notJson.code).toBe(1);
    expect(notJson.output).toContain('is not valid JSON');
    expect(await rowCounts()).toEqual(before);
  });

  it('sync --dry-run prints the plan and writes nothing; sync applies it once; a re-run changes nothing', async () => {
    const file = await write('directory.json', directory);
    const before = await rowCounts();
    const plan = await admin(['sync', '--file', file, '--dry-run']);
    expect(plan.code, plan.output).toBe(0);
    expect(plan.printed).toContain('created workspace acme');
    expect(plan.printed).toContain('dry run, nothing written: would have created 9');
    expect(plan.printed).not.toContain('/invite/');
    expect(await rowCounts()).toEqual(before);

    const applied = await admin(['sync', '--file', file]);
    expect(applied.code, applied.output).toBe(0);
    expect(applied.printed).toContain('created tenant acme/acme-prod');
    expect(applied.printed).toContain('created member acme/ops@acme.example');
    expect(applied.printed.match(/set-password link for \S+/g)?.sort()).toEqual([
      'set-password link for ops@acme.example',
      'set-password link for owner@acme.example',
      'set-password link for sre@host.example',
    ]);
    expect(applied.printed).toContain('created 9, changed 0, pruned 0');

    const again = await admin(['sync', '--file', file]);
    expect(again.printed).toContain('created 0, changed 0, pruned 0');
  });

  it('sync --prune removes unlisted members and deactivates unlisted tenants', async () => {
    const smaller = structuredClone(directory);
    const ws = smaller.workspaces[0] as (typeof directory.workspaces)[number];
    ws.tenants = ws.tenants.filter((t) => t.slug === 'acme-prod');
    ws.members = ws.members.filter((m) => m.role === 'owner');
    const result = await admin(['sync', '--file', await write('smaller.json', smaller), '--prune']);
    expect(result.code, result.output).toBe(0);
    expect(result.printed).toContain('pruned (deactivated) tenant acme/acme-dev');
    expect(result.printed).toContain('pruned (removed) member acme/ops@acme.example');
    expect(result.printed).toContain('created 0, changed 0, pruned 2');
    const dev = await t.db
      .selectFrom('tenants')
      .select('status')
      .where('slug', '=', 'acme-dev')
      .executeTakeFirstOrThrow();
    expect(dev.status).toBe('inactive');
  });

  it("the README's directory.json example applies as is", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split('## Adopting Runwarden: the directory')[1] ?? '';
    const example = /```json\n([\s\S]+?)\n```/.exec(section)?.[1];
    expect(example).toBeDefined();
    const other = await freshDatabase();
    const result = await admin(['sync', '--file', await write('readme.json', example)], other.url);
    expect(result.code, result.output).toBe(0);
    expect(result.printed).toContain(
      'created tenant acme/acme-legacy (name: "Acme Legacy", status: "inactive")',
    );
    const again = await admin(['sync', '--file', path.join(dir, 'readme.json')], other.url);
    expect(again.printed).toContain('created 0, changed 0, pruned 0');
  });

  it('token create prints the token once; revoke makes it unusable at once', async () => {
    const created = await admin([
      'token',
      'create',
      '--workspace',
      'acme',
      '--name',
      'ci',
      '--role',
      'operator',
    ]);
    expect(created.code, created.output).toBe(0);
    const token = created.printed.match(/token \(shown once\): (rwt_\S+)/)?.[1] as string;
    const id = created.printed.match(/token id: (\S+)/)?.[1] as string;
    expect(token).toBeDefined();
    expect(created.output.split('\n').filter((l) => l.includes(token))).toHaveLength(1);
    expect(await redeemToken(t.db, token)).toMatchObject({ id, role: 'operator' });

    const bad = await admin([
      'token',
      'create',
      '--workspace',
      'acme',
      '--name',
      'x',
      '--role',
      'god',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/- role: /);

    const revoked = await admin(['token', 'revoke', '--workspace', 'acme', '--id', id]);
    expect(revoked.code, revoked.output).toBe(0);
    expect(revoked.printed).toContain(`revoked token ${id}`);
    expect(await redeemToken(t.db, token)).toBeUndefined();
    const unknown = await admin(['token', 'revoke', '--workspace', 'acme', '--id', 'not-a-uuid']);
    expect(unknown.code).toBe(1);
  });

  it('token create without --as makes a service token, even where nobody owns the workspace; --as makes a person token for a member only', async () => {
    const sync = await admin(['sync', '--file', await write('unowned.json', unowned)]);
    expect(sync.code, sync.output).toBe(0);
    const tokenOf = (printed: string) => printed.match(/token id: (\S+)/)?.[1] as string;
    const row = (id: string) =>
      t.db
        .selectFrom('api_tokens')
        .select(['kind', 'created_by'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    const service = await admin([
      'token',
      'create',
      '--workspace',
      'unowned',
      '--name',
      'deploy',
      '--role',
      'operator',
    ]);
    expect(service.code, service.output).toBe(0);
    expect(service.printed).toContain('kind: service');
    expect(await row(tokenOf(service.printed))).toEqual({ kind: 'service', created_by: null });

    const person = await admin([
      'token',
      'create',
      '--workspace',
      'acme',
      '--name',
      'olive-ci',
      '--role',
      'operator',
      '--as',
      'OWNER@acme.example',
    ]);
    expect(person.code, person.output).toBe(0);
    const olive = await t.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'owner@acme.example')
      .executeTakeFirstOrThrow();
    expect(await row(tokenOf(person.printed))).toEqual({ kind: 'person', created_by: olive.id });

    const stranger = await admin([
      'token',
      'create',
      '--workspace',
      'unowned',
      '--name',
      'x',
      '--role',
      'readonly',
      '--as',
      'owner@acme.example',
    ]);
    expect(stranger.code).toBe(1);
    expect(stranger.output).toContain(
      'owner@acme.example is not an enabled member of workspace unowned',
    );
  });
});

/** A workspace with tenants and no members at all: no owner for a token to borrow. */
const unowned = {
  workspaces: [
    {
      slug: 'unowned',
      name: 'Unowned',
      tenants: [{ slug: 'unowned-prod', name: 'Production', status: 'active' }],
      members: [],
    },
  ],
};
