import { defineOperation } from 'runwarden';
import { z } from 'zod';

export const inventorySync = defineOperation({
  type: 'inventory.sync',
  label: 'Inventory sync',
  scope: 'tenant', // or 'workspace' (runs without a tenant)
  input: z.object({ scope: z.enum(['all', 'policies']) }),
  identity: (input) => ({ scope: input.scope }), // same identity while active → reuse the run
  lifecycle: { timeoutSeconds: 600, retries: 2, heartbeatSeconds: 5 },
  async run(ctx, input) {
    // ctx: signal, progress(), count(), heartbeat(), log
    const total = input.scope === 'all' ? 10 : 4;
    await ctx.progress({ processed: 0, total });
    for (let done = 1; done <= total; done++) {
      if (ctx.signal.aborted) return { outcome: 'cancelled' };
      await ctx.progress({ processed: done, total });
    }
    return { outcome: 'succeeded', counts: { items: total } };
  },
});

/** What `RUNWARDEN_CONFIG=catalog.ts` loads: your operation types (and optionally `schedules`). */
export const catalog = [inventorySync];
