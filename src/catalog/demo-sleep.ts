import { z } from 'zod';
import { defineOperation } from '../execution/operation.js';
import { pause } from './simulate.js';

/**
 * `demo.sleep` (DESIGN §4): sleeps `seconds`, reporting progress when `total` is given, then
 * ends with `outcome` ('throw' raises an error). No retries, so tests and benchmarks are exact.
 */
export const demoSleep = defineOperation({
  type: 'demo.sleep',
  label: 'Demo: sleep',
  scope: 'tenant',
  input: z.object({
    seconds: z
      .number()
      .min(0)
      .max(3600)
      .meta({ title: 'Duration (seconds)', description: 'How long the run sleeps.' }),
    outcome: z
      .enum(['succeeded', 'partially_succeeded', 'failed', 'throw'])
      .optional()
      .meta({ title: 'Outcome', description: 'How it ends ("throw" raises an error).' }),
    total: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .meta({ title: 'Items', description: 'Report progress over this many items.' }),
    /** Anything else that should make two starts distinct (tests start many at once). */
    tag: z
      .string()
      .max(200)
      .optional()
      .meta({ title: 'Tag', description: 'Makes two otherwise equal starts distinct.' }),
  }),
  identity: (input) => input,
  lifecycle: {
    retries: 0,
    timeoutSeconds: 3700,
    runningStaleAfterSeconds: 3800,
    queuedStaleAfterSeconds: 900,
  },
  async run(ctx, input) {
    const outcome = input.outcome ?? 'succeeded';
    const steps = input.total ?? 0;
    if (steps > 0) {
      const ticks = Math.min(steps, 20);
      for (let tick = 1; tick <= ticks; tick++) {
        await pause((input.seconds * 1000) / ticks, ctx.signal);
        await ctx.progress({ processed: Math.round((steps * tick) / ticks), total: steps });
      }
    } else if (input.seconds > 0) {
      await pause(input.seconds * 1000, ctx.signal);
    }
    if (outcome === 'throw') {
      throw new Error(
        `demo.sleep was asked to throw (token=abc123secret, at ${new Date().toISOString()})`,
      );
    }
    return {
      outcome,
      counts: { items: steps },
      failures:
        outcome === 'succeeded'
          ? []
          : [{ code: 'demo.requested', message: `demo.sleep ended ${outcome} as asked.` }],
    };
  },
});
