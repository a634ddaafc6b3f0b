import { z } from 'zod';
import type { RunRow } from '../../src/db/schema.js';
import { defineOperation } from '../../src/execution/operation.js';
import type { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import type { RunService } from '../../src/runs/run-service.js';
import type { TestDatabase } from './db.js';
import type { Scope } from './fixtures.js';

/** A plain tenant operation with default lifecycle; `{ n }` makes each start distinct. */
export const numberedSync = defineOperation({
  type: 'inventory.sync',
  label: 'Inventory sync',
  scope: 'tenant',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  run: async () => ({ outcome: 'succeeded' }),
});

/** Starts distinct queued `inventory.sync` runs through the real start path. */
export function queuedRuns(
  get: () => { t: TestDatabase; scope: Scope; runs: RunService; registry: OperationRegistry },
) {
  let n = 0;
  return async (tenantId?: string): Promise<RunRow> => {
    const { t, scope, runs, registry } = get();
    n += 1;
    const { run } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'inventory.sync',
        workspaceId: scope.workspaceId,
        tenantId: tenantId ?? scope.tenantId,
        input: { n },
        initiatorUserId: scope.userId,
      },
    );
    return run;
  };
}
