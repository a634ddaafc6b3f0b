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
});
