import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RunwardenError } from '../../src/domain/errors.js';
import { createRunwarden, defineOperation, type Runwarden } from '../../src/index.js';
import { freshDatabase } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

// A platform adopts Runwarden with its own keys: the directory in, runs started by slug and email.
const backup = defineOperation({
  type: 'tenant.backup',
  label: 'Backup',
  scope: 'tenant',
  input: z.object({ full: z.boolean() }),
  identity: (input) => input,
  async run() {
    return { outcome: 'succeeded' };
  },
});

let rw: Runwarden;
beforeAll(async () => {
  const t = await freshDatabase();
  rw = createRunwarden({ databaseUrl: t.url, operations: [backup], logger: quietLogger });
});
afterAll(async () => {
  await rw?.close();
});

describe('rw.directory and start() by the host keys', () => {
  it('syncs the directory, then starts runs by workspace/tenant slug and initiator email', async () => {
    const result = await rw.directory.sync({
      workspaces: [
        {
          slug: 'acme',
          name: 'Acme',
          tenants: [{ slug: 'prod', name: 'Production' }],
          members: [{ email: 'Owner@Acme.example', role: 'owner' }],
        },
      ],
    });
    expect(result.invites.map((i) => i.email)).toEqual(['owner@acme.example']);
    await rw.directory.upsertTenant({ workspace: 'acme', slug: 'dev', name: 'Dev' });
    await rw.directory.upsertMember({
      workspace: 'acme',
      email: 'ops@acme.example',
      role: 'operator',
      tenants: ['dev'],
    });

    const { run } = await rw.start({
      type: 'tenant.backup',
      workspace: 'acme',
      tenant: 'prod',
      initiator: 'OWNER@acme.example',
      input: { full: true },
    });
    const ids = await rw.db
      .selectFrom('tenants')
      .innerJoin('workspaces', 'workspaces.id', 'tenants.workspace_id')
      .innerJoin('memberships', 'memberships.workspace_id', 'workspaces.id')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['workspaces.id as ws', 'tenants.id as tenant', 'users.id as user'])
      .where('tenants.slug', '=', 'prod')
      .where('users.email', '=', 'owner@acme.example')
      .executeTakeFirstOrThrow();
    expect(run).toMatchObject({
      workspace_id: ids.ws,
      tenant_id: ids.tenant,
      initiator_user_id: ids.user,
    });
    // ids still work, and name the same run
    const again = await rw.start({
      type: 'tenant.backup',
      workspaceId: ids.ws,
      tenantId: ids.tenant,
      initiatorUserId: ids.user,
      input: { full: true },
    });
    expect(again).toMatchObject({ reused: true, run: { id: run.id } });

    const unknown = await rw
      .start({
        type: 'tenant.backup',
        workspace: 'acme',
        tenant: 'nope',
        initiator: null,
        input: { full: true },
      })
      .catch((e: unknown) => e as RunwardenError);
    expect(unknown).toBeInstanceOf(RunwardenError);
    expect((unknown as RunwardenError).code).toBe('not_found');
  });

  it('deactivating a tenant through rw.directory refuses new starts on it', async () => {
    await rw.directory.upsertTenant({
      workspace: 'acme',
      slug: 'dev',
      name: 'Dev',
      status: 'inactive',
    });
    const refused = await rw
      .start({
        type: 'tenant.backup',
        workspace: 'acme',
        tenant: 'dev',
        initiator: null,
        input: { full: false },
      })
      .catch((e: unknown) => e as RunwardenError);
    expect((refused as RunwardenError).code).toBe('tenant_inactive');
  });
});
