import { z } from 'zod';
import { defineOperation } from '../../src/execution/operation.js';

/**
 * An external type whose adapter freezes its own process (SIGSTOP) when a sweep asks it about a
 * stale run: a sweep stopped while it holds the sweep lock. Only test/support/frozen-sweeper.ts
 * may sweep with it.
 */
export const frozenProbe = defineOperation({
  type: 'test.frozen_probe',
  label: 'Frozen probe',
  scope: 'tenant',
  execution: 'external',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  reconcile: async () => {
    process.stdout.write('frozen\n');
    process.kill(process.pid, 'SIGSTOP');
    return undefined;
  },
});
