import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDirectory, type Directory, directoryManaged } from '../../src/access/directory.js';
import { RunwardenError } from '../../src/domain/errors.js';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { registryOf, runTestWorker } from '../support/worker.js';

let t: TestDatabase;
let dir: Directory;
let worker: Awaited<ReturnType<typeof runTestWorker>> | undefined;

const invoked = new Set<string>();
const sync = defineOperation({
  type: 'test.directory',
  label: 'Directory probe',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  async run(ctx) {
    invoked.add(ctx.runId);
    return { outcome: 'succeeded' };
  },
});
const registry = registryOf(sync);

beforeAll(async () => {
  t = await freshDatabase();
  dir = createDirectory({
    db: t.db,
    publicUrl: 'http://localhost:3000',
    actor: { userId: null, kind: 'system', source: 'cli' },
  });
});
afterAll(async () => {
  await worker?.close();
});

const file = {
  workspaces: [
    {
      slug: 'acme',
      name: 'Acme',
      tenants: [
        { slug: 'prod', name: 'Production', status: 'active' },
        { slug: 'dev', name: 'Development' },
      ],
      members: [
        { email: 'Owner@Acme.test', name: 'Olive', role: 'owner', tenants: null },
        { email: 'ops@acme.test', role: 'operator', tenants: ['prod'] },
      ],
    },
  ],
  platformStaff: [{ email: 'staff@host.test', capabilities: ['system.ops.view'] }],
};

async function counts() {
  const out: Record<string, number> = {};
  for (const table of [
    'workspaces',
    'tenants',
    'users',
    'memberships',
    'invites',
    'audit_log',
    'settings',
  ] as const) {
    const row = await t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

describe('directory sync (directory.json)', () => {
  it('a file that fails validation lists every problem and writes nothing', async () => {
    const before = await counts();
    const bad = {
      workspaces: [
        {
          slug: 'Bad Slug',
          name: '',
          tenants: [{ slug: 'a', name: 'A', status: 'paused' }],
          members: [
            { email: 'x@y.test', role: 'owner', tenants: ['missing'] },
            { email: 'X@y.test', role: 'owner' },
          ],
        },
      ],
      extra: true,
    };
    const error = await dir.sync(bad).then(
      () => undefined,
      (e: unknown) => e as RunwardenError,
    );
    expect(error).toBeInstanceOf(RunwardenError);
    expect(error?.code).toBe('validation_failed');
    const problems = ((error as RunwardenError).details as { problems: string[] }).problems.join(
      '\n',
    );
    expect(problems).toContain('workspaces.0.slug');
    expect(problems).toContain('workspaces.0.name');
    expect(problems).toContain('workspaces.0.tenants.0.status');
    expect(problems).toContain('extra');
    expect(await counts()).toEqual(before);
    expect(await directoryManaged(t.db)).toBe(false);
  });

  it('a dry run reports what it would do and writes nothing', async () => {
    const before = await counts();
    const plan = await dir.sync(file, { dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.invites).toEqual([]);
    expect(
      plan.changes.filter((c) => c.action === 'created').map((c) => `${c.kind} ${c.key}`),
    ).toEqual([
      'workspace acme',
      'tenant acme/prod',
      'tenant acme/dev',
      'user owner@acme.test',
      'member acme/owner@acme.test',
      'user ops@acme.test',
      'member acme/ops@acme.test',
      'user staff@host.test',
      'platform_staff staff@host.test',
    ]);
    expect(await counts()).toEqual(before);
  });

  it('applies the file once; a second run changes nothing', async () => {
    const first = await dir.sync(file);
    expect(first.changes.length).toBeGreaterThan(7);
    expect(first.invites.map((i) => i.email).sort()).toEqual([
      'ops@acme.test',
      'owner@acme.test',
      'staff@host.test',
    ]);
    const ops = await t.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.role', 'memberships.tenant_ids'])
      .where('users.email', '=', 'ops@acme.test')
      .executeTakeFirstOrThrow();
    const prod = await t.db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', 'prod')
      .executeTakeFirstOrThrow();
    expect(ops).toEqual({ role: 'operator', tenant_ids: [prod.id] });
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'member.created')
      .execute();
    expect(audit).toHaveLength(2);
    expect(audit[0]?.details).toMatchObject({ source: 'cli' });

    const second = await dir.sync(file);
    expect(second.changes).toEqual([]);
    expect(second.invites).toEqual([]);
  });

  it('deactivating a tenant through the directory blocks its queued and new runs at the gate', async () => {
    const runs = new RunService({ db: t.db });
    const ids = await t.db
      .selectFrom('tenants')
      .innerJoin('workspaces', 'workspaces.id', 'tenants.workspace_id')
      .select(['tenants.id as tenantId', 'workspaces.id as workspaceId'])
      .where('tenants.slug', '=', 'dev')
      .executeTakeFirstOrThrow();
    const { run: queued } = await startRun(
      { db: t.db, runs, registry },
      { type: 'test.directory', ...ids, input: { tag: 'queued' }, initiatorUserId: null },
    );
    await dir.upsertTenant({
      workspace: 'acme',
      slug: 'dev',
      name: 'Development',
      status: 'inactive',
    });
    const refused = await startRun(
      { db: t.db, runs, registry },
      { type: 'test.directory', ...ids, input: { tag: 'new' }, initiatorUserId: null },
    ).then(
      () => undefined,
      (e: unknown) => e as RunwardenError,
    );
    expect(refused?.code).toBe('tenant_inactive');

    worker = await runTestWorker(t, registry);
    const done = await until(
      async () => {
        const row = await t.db
          .selectFrom('operation_runs')
          .selectAll()
          .where('id', '=', queued.id)
          .executeTakeFirstOrThrow();
        return row.status === 'completed' ? row : undefined;
      },
      { within: 10_000, what: 'the queued run to be gated' },
    );
    expect(done).toMatchObject({
      outcome: 'blocked',
      failures: [expect.objectContaining({ code: 'gate.tenant_inactive' })],
    });
    expect(invoked.has(queued.id)).toBe(false);
  });

  it('--prune removes unlisted members and deactivates unlisted tenants, never deleting runs', async () => {
    const runsBefore = await t.db.selectFrom('operation_runs').select('id').execute();
    const smaller = {
      workspaces: [
        {
          slug: 'acme',
          name: 'Acme',
          tenants: [{ slug: 'prod', name: 'Production' }],
          members: [{ email: 'owner@acme.test', role: 'owner' }],
        },
      ],
      platformStaff: [],
    };
    // without --prune nothing is removed
    const plain = await dir.sync(smaller);
    expect(plain.changes.filter((c) => c.pruned)).toEqual([]);

    await dir.bootstrap({ email: 'root@host.test', password: 'long enough' });
    const pruned = await dir.sync(smaller, { prune: true });
    expect(
      pruned.changes
        .filter((c) => c.pruned)
        .map((c) => `${c.action} ${c.kind} ${c.key}`)
        .sort(),
    ).toEqual(['removed member acme/ops@acme.test', 'removed platform_staff staff@host.test']);
    // a platform admin is never pruned (only changed by listing them)
    const root = await t.db
      .selectFrom('users')
      .select('platform_capabilities')
      .where('email', '=', 'root@host.test')
      .executeTakeFirstOrThrow();
    expect(root.platform_capabilities).toContain('platform.directory');
    // dev was already inactive (previous test): pruning leaves it so, and every run stays
    const tenants = await t.db
      .selectFrom('tenants')
      .select(['slug', 'status'])
      .orderBy('slug')
      .execute();
    expect(tenants).toEqual([
      { slug: 'dev', status: 'inactive' },
      { slug: 'prod', status: 'active' },
    ]);
    expect(await t.db.selectFrom('operation_runs').select('id').execute()).toEqual(runsBefore);

    // a tenant the file drops is deactivated
    await dir.upsertTenant({ workspace: 'acme', slug: 'staging', name: 'Staging' });
    const again = await dir.sync(smaller, { prune: true });
    expect(again.changes.map((c) => `${c.action} ${c.kind} ${c.key} ${c.pruned}`)).toEqual([
      'deactivated tenant acme/staging true',
    ]);
  });

  it('a file that would leave a workspace without an owner is refused whole', async () => {
    const before = await counts();
    const ownerless = {
      workspaces: [
        {
          slug: 'acme',
          name: 'Acme',
          tenants: [{ slug: 'prod', name: 'Production' }],
          members: [{ email: 'new@acme.test', role: 'manager' }],
        },
      ],
    };
    const error = await dir.sync(ownerless, { prune: true }).then(
      () => undefined,
      (e: unknown) => e as RunwardenError,
    );
    expect(error?.code).toBe('conflict');
    expect(await counts()).toEqual(before);
  });
});
