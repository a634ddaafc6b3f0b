import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { admissionPass } from '../../src/flow/admission-pass.js';
import { wakeAdmitters } from '../../src/flow/lanes.js';
import type { RunView } from '../../src/http/schemas.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { runTestWorker } from '../support/worker.js';

// Issue 21 "Done when": a paused tenant deactivated and reactivated. Its held runs keep waiting as
// paused all along — never blocked by the gate, never likely stale — and run once the pause is
// lifted. A real worker (and its admitter) runs throughout.

const capped = defineOperation({
  type: 'capped.sync',
  label: 'Capped sync',
  scope: 'tenant',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  flow: { concurrency: { perTenant: 2 } },
  run: async () => ({ outcome: 'succeeded' as const }),
});

const h = await apiHarness({ operations: [capped] as OperationDefinition[] });
let owner: Caller;
let worker: Awaited<ReturnType<typeof runTestWorker>>;
let pauseId: string;
const ids: string[] = [];

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
});

afterAll(async () => {
  await worker?.close();
});

async function truths(): Promise<RunView['truth'][]> {
  return await Promise.all(
    ids.map(async (id) => {
      const res = await h.request(owner, { method: 'GET', url: `/api/operations/${id}` });
      expect(res.statusCode).toBe(200);
      return (res.json() as RunView).truth;
    }),
  );
}

/** An admission pass now, as every worker's admitter runs them: it admits none of the runs. */
async function passedOnce(): Promise<void> {
  const pass = await admissionPass({
    db: h.db,
    runs: h.runs,
    types: h.registry.list(),
    pools: h.registry.flowPools,
    enqueue: async (_trx, run) => {
      throw new Error(`admitted paused run ${run.id}`);
    },
  });
  expect(pass.admitted).toEqual([]);
}

async function expectStillPaused(): Promise<void> {
  const rows = await h.db
    .selectFrom('operation_runs')
    .select(['status', 'held', 'outcome'])
    .where('id', 'in', ids)
    .execute();
  expect(rows).toEqual(ids.map(() => ({ status: 'queued', held: true, outcome: 'pending' })));
  for (const truth of await truths()) {
    expect(truth).toMatchObject({
      bucket: 'active',
      headline: 'Paused for Contoso Production by Olivia Owner at {time}.',
      badges: [{ label: 'Paused' }],
      waiting: { kind: 'paused' },
    });
  }
}

async function setTenant(status: 'active' | 'inactive'): Promise<void> {
  const res = await h.request(owner, {
    method: 'PUT',
    url: '/api/workspaces/contoso/tenants/contoso-prod',
    payload: { name: 'Contoso Production', status },
  });
  expect(res.statusCode).toBe(200);
}

describe('a paused tenant deactivated and reactivated', () => {
  it('its runs wait as paused throughout, and run once the pause is lifted', async () => {
    pauseId = crypto.randomUUID();
    await h.db
      .insertInto('flow_pauses')
      .values({
        id: pauseId,
        workspace_id: h.ids.contoso,
        tenant_id: h.ids.prod,
        created_by: await h.userId('owner@demo.test'),
      })
      .execute();
    for (let n = 0; n < 3; n++) {
      const { run } = await startRun(
        { db: h.db, runs: h.runs, registry: h.registry },
        {
          type: 'capped.sync',
          workspaceId: h.ids.contoso,
          tenantId: h.ids.prod,
          input: { n },
          initiatorUserId: await h.userId('owner@demo.test'),
        },
      );
      ids.push(run.id);
    }
    await passedOnce();
    await expectStillPaused();

    await setTenant('inactive');
    // Long past their queued window: held, they are still not "likely stale".
    await h.db
      .updateTable('operation_runs')
      .set({ created_at: new Date(Date.now() - 2 * 3600_000) })
      .where('id', 'in', ids)
      .execute();
    await passedOnce();
    await expectStillPaused();

    await setTenant('active');
    await passedOnce();
    await expectStillPaused();

    await h.db.deleteFrom('flow_pauses').where('id', '=', pauseId).execute();
    await wakeAdmitters(h.db);
    await until(
      async () => {
        const rows = await h.db
          .selectFrom('operation_runs')
          .select('outcome')
          .where('id', 'in', ids)
          .where('status', '=', 'completed')
          .execute();
        return rows.length === ids.length ? rows : undefined;
      },
      { within: 10_000, what: 'the resumed runs to finish' },
    );
    for (const truth of await truths()) {
      expect(truth).toMatchObject({ bucket: 'succeeded', waiting: null });
    }
  });
});
