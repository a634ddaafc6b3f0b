import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRunwarden, defineOperation, type Runwarden } from '../../src/index.js';
import { freshDatabase, until } from '../support/db.js';
import { seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

// The library as a platform engineer uses it: define a type, migrate, start, run a worker.
const inventorySync = defineOperation({
  type: 'inventory.sync',
  label: 'Inventory sync',
  scope: 'tenant',
  input: z.object({ scope: z.enum(['all', 'policies']) }),
  identity: (input) => ({ scope: input.scope }),
  lifecycle: { retries: 0 },
  async run(ctx) {
    await ctx.progress({ processed: 10, total: 10 });
    return { outcome: 'succeeded', counts: { items: 10 } };
  },
});

let rw: Runwarden;
afterAll(async () => {
  await rw?.close();
});

describe('createRunwarden', () => {
  let scope: Awaited<ReturnType<typeof seedScope>>;
  beforeAll(async () => {
    const t = await freshDatabase({ empty: true });
    rw = createRunwarden({ databaseUrl: t.url, operations: [inventorySync], logger: quietLogger });
    await rw.migrate();
    await rw.migrate(); // idempotent
    scope = await seedScope(rw.db);
  });

  it('starts a run, dedupes a second start, and a worker completes it', async () => {
    const request = {
      type: 'inventory.sync',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { scope: 'all' },
      initiatorUserId: scope.userId,
    };
    const first = await rw.start(request);
    const second = await rw.start(request);
    expect(second).toMatchObject({ reused: true, run: { id: first.run.id } });
    await rw.worker({ concurrency: 2 });
    const done = await until(async () => {
      const run = await rw.runs.get(first.run.id);
      return run?.status === 'completed' ? run : undefined;
    });
    expect(done).toMatchObject({
      outcome: 'succeeded',
      summary_counts: { items: 10 },
      progress_processed: 10,
    });
  });

  it('refuses a slug and an id that name different things, and changes nothing', async () => {
    const slugs = await rw.db
      .selectFrom('tenants')
      .select(['id', 'slug'])
      .where('workspace_id', '=', scope.workspaceId)
      .execute();
    const other = slugs.find((t) => t.id !== scope.tenantId);
    if (!other) throw new Error('the scope has a second tenant');
    const before = await rw.db.selectFrom('operation_runs').select('id').execute();
    await expect(
      rw.start({
        type: 'inventory.sync',
        workspaceId: scope.workspaceId,
        tenant: other.slug,
        tenantId: scope.tenantId,
        input: { scope: 'policies' },
        initiatorUserId: scope.userId,
      }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: '`tenant` and `tenantId` name different tenants; give one of them.',
    });
    expect(await rw.db.selectFrom('operation_runs').select('id').execute()).toEqual(before);
    // Agreeing, both are fine.
    const own = slugs.find((t) => t.id === scope.tenantId);
    const agreed = await rw.start({
      type: 'inventory.sync',
      workspaceId: scope.workspaceId,
      tenant: own?.slug,
      tenantId: scope.tenantId,
      input: { scope: 'policies' },
      initiatorUserId: scope.userId,
    });
    expect(agreed.run.tenant_id).toBe(scope.tenantId);
  });
});
