import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { type AdmissionDeps, admissionPass } from '../../src/flow/admission-pass.js';
import type { RunView } from '../../src/http/schemas.js';
import { reconcile } from '../../src/lifecycle/reconciler.js';
import { apiHarness, type Caller } from '../support/http.js';
import { quietLogger } from '../support/worker.js';

// Honest waiting (DESIGN §17, issue 21 point 6) through the API: a queued run says why it waits on
// the list and the detail alike, and a run held by a limit, a pause or its runAt is never judged
// stale — by the truth, the list buckets, the dashboard counts and the reconciler — while an
// admitted run nobody picks up still is. No worker runs here: admission passes are run by hand.

const input = z.object({ n: z.number() });
const ok = async () => ({ outcome: 'succeeded' as const });
const capped = defineOperation({
  type: 'capped.sync',
  label: 'Capped sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { concurrency: { perTenant: 1 } },
  run: ok,
});
const metered = defineOperation({
  type: 'metered.sync',
  label: 'Metered sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { rate: { perTenant: { limit: 1, intervalSeconds: 600 } } },
  run: ok,
});
const later = defineOperation({
  type: 'later.sync',
  label: 'Later sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  run: ok,
});

const h = await apiHarness({ operations: [capped, metered, later] as OperationDefinition[] });
let owner: Caller;
let n = 0;

const admission = (): AdmissionDeps => ({
  db: h.db,
  runs: h.runs,
  types: h.registry.list(),
  pools: [],
  readyTarget: 100,
  enqueue: async (trx, run) => {
    await enqueueRun(trx, {
      taskIdentifier: `runwarden:${run.type}`,
      runId: run.id,
      maxAttempts: 1,
      priority: run.priority,
    });
  },
});

async function start(type: string, tenantId: string, extra: { runAt?: Date } = {}) {
  n += 1;
  const { run } = await startRun(
    { db: h.db, runs: h.runs, registry: h.registry },
    {
      type,
      workspaceId: h.ids.contoso,
      tenantId,
      input: { n },
      initiatorUserId: await h.userId('owner@demo.test'),
      ...extra,
    },
  );
  return run;
}

async function detail(id: string): Promise<RunView> {
  const res = await h.request(owner, { method: 'GET', url: `/api/operations/${id}` });
  expect(res.statusCode).toBe(200);
  return res.json() as RunView;
}

async function list(bucket: string): Promise<RunView[]> {
  const res = await h.request(owner, {
    method: 'GET',
    url: `/api/workspaces/contoso/operations?bucket=${bucket}&limit=200`,
  });
  expect(res.statusCode).toBe(200);
  return (res.json() as { items: RunView[] }).items;
}

/** The run's truth on its detail page, after checking the list shows it the same. */
async function truthOf(id: string): Promise<RunView['truth']> {
  const fromList = (await list('all')).find((r) => r.id === id);
  const fromDetail = (await detail(id)).truth;
  expect(fromList?.truth).toEqual(fromDetail);
  return fromDetail;
}

async function summary() {
  const res = await h.request(owner, {
    method: 'GET',
    url: '/api/workspaces/contoso/operations/summary',
  });
  return res.json() as { activeFresh: number; activeStale: number };
}

const runs: Record<string, string> = {};
let pausedAt: Date;

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  runs.admitted = (await start('capped.sync', h.ids.prod)).id;
  runs.capacity = (await start('capped.sync', h.ids.prod)).id;
  runs.metered = (await start('metered.sync', h.ids.prod)).id;
  runs.rate = (await start('metered.sync', h.ids.prod)).id;
  runs.scheduled = (
    await start('later.sync', h.ids.prod, { runAt: new Date(Date.now() + 180_000) })
  ).id;
  const pause = await h.db
    .insertInto('flow_pauses')
    .values({
      id: crypto.randomUUID(),
      workspace_id: h.ids.contoso,
      tenant_id: h.ids.dev,
      created_by: await h.userId('owner@demo.test'),
    })
    .returning('created_at')
    .executeTakeFirstOrThrow();
  pausedAt = pause.created_at;
  runs.paused = (await start('capped.sync', h.ids.dev)).id;
  const pass = await admissionPass(admission());
  expect(pass.admitted.map((r) => r.id).sort()).toEqual([runs.admitted, runs.metered].sort());
});

describe('why a queued run waits, on the list and the detail', () => {
  it('an admitted run waits for a worker, and says so honestly when none is running', async () => {
    expect(await truthOf(runs.admitted as string)).toMatchObject({
      headline: 'Queued — no worker is running.',
      badges: [{ label: 'Queued' }],
      waiting: { kind: 'no_worker', at: null },
    });
    await h.db
      .insertInto('workers')
      .values({
        id: 'honest-1',
        host: 'h',
        pid: 1,
        started_at: new Date(),
        last_seen_at: new Date(),
        heartbeat_ms: 60_000,
      })
      .execute();
    try {
      expect(await truthOf(runs.admitted as string)).toMatchObject({
        headline: 'Queued — waiting for a worker.',
        waiting: { kind: 'worker', at: null },
      });
    } finally {
      await h.db.deleteFrom('workers').where('id', '=', 'honest-1').execute();
    }
  });

  it('a run over its limit names the numbers and the tenant', async () => {
    expect(await truthOf(runs.capacity as string)).toMatchObject({
      bucket: 'active',
      headline:
        'Waiting for capacity: 1 of 1 Capped sync runs already running for Contoso Production.',
      badges: [{ label: 'Waiting', tone: 'info' }],
      waiting: { kind: 'capacity', at: null },
    });
  });

  it('a run in a rate window says when the next start is', async () => {
    const truth = await truthOf(runs.rate as string);
    expect(truth.headline).toMatch(/^Rate limit: next start in ~(9|10) min\.$/);
    expect(truth.badges.map((b) => b.label)).toEqual(['Waiting']);
    expect(truth.waiting?.kind).toBe('rate');
  });

  it('a scheduled run says when it starts ({time} is the reader’s clock) and in how long', async () => {
    const truth = await truthOf(runs.scheduled as string);
    const run = await h.db
      .selectFrom('operation_runs')
      .select('run_at')
      .where('id', '=', runs.scheduled as string)
      .executeTakeFirstOrThrow();
    expect(truth).toMatchObject({
      headline: expect.stringMatching(/^Scheduled — starts \{time\} \(in (2|3) min\)\.$/),
      badges: [{ label: 'Scheduled' }],
      waiting: { kind: 'scheduled', at: run.run_at?.toISOString() },
    });
  });

  it('a paused run says for what, by whom and since when', async () => {
    expect(await truthOf(runs.paused as string)).toMatchObject({
      headline: 'Paused for Contoso Development by Olivia Owner at {time}.',
      badges: [{ label: 'Paused' }],
      decision: { stillActive: expect.stringMatching(/^Yes, held by a pause/) },
      waiting: { kind: 'paused', at: pausedAt.toISOString() },
    });
  });
});

describe('never likely stale while held', () => {
  it('held runs back-dated far past their window stay active on lists and tiles; the admitted one nobody took is stale', async () => {
    const before = await summary();
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    const held = [runs.capacity, runs.rate, runs.scheduled, runs.paused] as string[];
    await sql`update operation_runs set created_at = ${longAgo} where id = any(${held}::uuid[])`.execute(
      h.db,
    );
    await sql`update operation_runs set created_at = ${longAgo}, eligible_at = ${longAgo}
      where id = ${runs.admitted}`.execute(h.db);

    const active = (await list('active')).map((r) => r.id);
    const stale = (await list('active_stale')).map((r) => r.id);
    expect(active).toEqual(expect.arrayContaining(held));
    expect(stale).toEqual([runs.admitted]);
    for (const id of held) {
      const truth = (await detail(id)).truth;
      expect(truth.bucket).toBe('active');
      expect(truth.badges.map((b) => b.label)).not.toContain('Likely stale');
    }
    expect((await detail(runs.admitted as string)).truth).toMatchObject({
      bucket: 'active_stale',
      badges: [{ label: 'Likely stale' }],
    });
    const after = await summary();
    expect(after.activeStale - before.activeStale).toBe(1);
    expect(after.activeFresh - before.activeFresh).toBe(-1);
  });

  it('the reconciler ends the admitted run nobody took and leaves every held run waiting', async () => {
    const report = await reconcile({
      db: h.db,
      runs: h.runs,
      registry: h.registry,
      logger: quietLogger,
    });
    expect(report.actions.map((a) => a.runId)).toEqual([runs.admitted]);
    const rows = await h.db
      .selectFrom('operation_runs')
      .select(['id', 'status', 'held', 'reconciliation'])
      .where('id', 'in', Object.values(runs))
      .execute();
    for (const row of rows) {
      if (row.id === runs.admitted) {
        expect(row).toMatchObject({ status: 'completed' });
        expect(row.reconciliation).toMatchObject({ reasonCode: 'run.stale_queued' });
      } else if (row.id !== runs.metered) {
        expect(row).toMatchObject({ status: 'queued', held: true, reconciliation: null });
      }
    }
  });
});
