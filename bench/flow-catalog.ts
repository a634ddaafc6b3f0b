import { z } from 'zod';
import { pause } from '../src/catalog/simulate.js';
import { defineOperation, type FlowSpec } from '../src/index.js';

// The operations of bench `flow` (DESIGN §17), also the worker processes' RUNWARDEN_CONFIG: each
// run sleeps `ms` and succeeds.

const sleeper = (type: string, flow: FlowSpec) =>
  defineOperation({
    type,
    label: type,
    scope: 'tenant',
    input: z.object({ n: z.number(), ms: z.number() }),
    identity: (i) => i,
    lifecycle: { retries: 0, queuedStaleAfterSeconds: 3_600 },
    flow,
    async run(ctx, input) {
      await pause(input.ms, ctx.signal);
      return { outcome: 'succeeded' };
    },
  });

/** No limits: fair dispatch only. */
export const BACKLOG = 'flow.backlog';
/** The limits: 2 per tenant, 20 in all, 10 starts per tenant per 10 s. */
export const LIMITED = 'flow.limited';
export const LIMITS = { perTenant: 2, total: 20, rate: { limit: 10, intervalSeconds: 10 } };

export const catalog = [
  sleeper(BACKLOG, {}),
  sleeper(LIMITED, {
    concurrency: { perTenant: LIMITS.perTenant, total: LIMITS.total },
    rate: { perTenant: LIMITS.rate },
  }),
];
