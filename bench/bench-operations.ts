import { z } from 'zod';
import { defineOperation } from '../src/execution/operation.js';

/** Reports it reaches per run in the progress-heavy variant (DESIGN §14). */
export const PROGRESS_REPORTS = 20;

/**
 * `bench.progress`: a handler that does nothing but report progress PROGRESS_REPORTS times, back
 * to back, then succeeds: what progress costs beside a plain `demo.sleep 0`.
 */
export const benchProgress = defineOperation({
  type: 'bench.progress',
  label: 'Bench: progress',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (input) => input,
  lifecycle: {
    retries: 0,
    timeoutSeconds: 600,
    runningStaleAfterSeconds: 700,
    queuedStaleAfterSeconds: 900,
  },
  async run(ctx) {
    for (let i = 1; i <= PROGRESS_REPORTS; i++)
      await ctx.progress({ processed: i, total: PROGRESS_REPORTS });
    return { outcome: 'succeeded' };
  },
});
