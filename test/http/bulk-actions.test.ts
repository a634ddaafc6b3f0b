import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { registerBuiltins } from '../../src/execution/bulk-action.js';
import { until } from '../support/db.js';
import { runTestWorker } from '../support/worker.js';
import { flowHarness } from './flow-support.js';

// DESIGN §18 bulk actions over real HTTP, run by a real worker: a preview count, then a tracked
// run of `runwarden.bulk_action` that acts only on runs that still match and that the caller may
// act on, once per run, each change audited.

const h = await flowHarness();
registerBuiltins({ db: h.db, runs: h.runs, registry: h.registry });
let worker: Awaited<ReturnType<typeof runTestWorker>>;
let owner: RunwardenClient;
let readonly: RunwardenClient;
let outsider: RunwardenClient;
let devOnly: RunwardenClient;
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  owner = h.as(await h.login('owner@demo.test'));
  readonly = h.as(await h.login('readonly@demo.test'));
  outsider = h.as(await h.login('outsider@demo.test'));
  devOnly = h.as(await h.member('bulk-dev@demo.test', 'manager', [h.ids.dev]));
  worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
});
afterAll(async () => {
  await worker?.close();
});

/** Queued runs that wait (an hour ahead), tagged, on a tenant. */
async function queued(count: number, tag: string, tenantId = h.ids.dev) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const started = await owner.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: {
        type: 'policy.sync_one',
        tenantId,
        input: { policyId: `b-${++n}` },
        tags: [tag],
        delaySeconds: 3600,
      },
    });
    ids.push(started.data?.run.id as string);
  }
  return ids;
}

const bulk = (
  api: RunwardenClient,
  body: { action: 'cancel' | 'retry'; filter?: { tag: string }; ids?: string[]; dryRun?: boolean },
) => api.POST('/api/workspaces/{ws}/bulk-actions', { params: ws, body });

/** The tracked run of a 202 answer (the 200 of a preview has none). */
const runOf = (data: unknown) => (data as { run: { id: string; type: string } } | undefined)?.run;

const finished = (id: string) =>
  until(
    async () => {
      const run = await h.db
        .selectFrom('operation_runs')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return run.status === 'completed' ? run : undefined;
    },
    { within: 20_000, what: `bulk action ${id} completed` },
  );

const outcomes = async (ids: string[]) =>
  (
    await h.db
      .selectFrom('operation_runs')
      .select(['id', 'outcome', 'cancel_requested_at'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute()
  ).map((r) => (r.cancel_requested_at && r.outcome === 'pending' ? 'cancel_requested' : r.outcome));

describe('bulk cancel', () => {
  it('previews, then cancels what still matches, audits each, and touches nothing else', async () => {
    const targets = await queued(12, 'bulk-a');
    const others = await queued(2, 'bulk-other');
    const preview = await bulk(owner, {
      action: 'cancel',
      filter: { tag: 'bulk-a' },
      dryRun: true,
    });
    expect(preview.response.status).toBe(200);
    expect(preview.data).toEqual({ count: 12 });

    // Underneath, after the preview: two end on their own, one starts running.
    const [done1, done2, running] = targets as [string, string, string];
    for (const id of [done1, done2]) await h.runs.complete(id, { outcome: 'succeeded' });
    await h.runs.admit([running]);
    await h.runs.markRunning(running, { workerId: 'w-elsewhere' });

    const started = await bulk(owner, { action: 'cancel', filter: { tag: 'bulk-a' } });
    expect(started.response.status).toBe(202);
    expect(runOf(started.data)).toMatchObject({ type: 'runwarden.bulk_action', tenantId: null });
    const run = await finished(runOf(started.data)?.id as string);
    expect(run).toMatchObject({
      outcome: 'succeeded',
      summary_counts: { cancelled: 9, cancel_requested: 1 },
      progress_processed: 10,
      progress_total: 10,
    });
    const after = await outcomes(targets);
    expect(after.filter((o) => o === 'cancelled')).toHaveLength(9);
    expect(after.filter((o) => o === 'succeeded')).toHaveLength(2);
    expect(after.filter((o) => o === 'cancel_requested')).toHaveLength(1);
    expect(await outcomes(others)).toEqual(['pending', 'pending']);
    const audited = await h.db
      .selectFrom('audit_log')
      .select('target_id')
      .where('action', '=', 'run.cancel')
      .where('target_id', 'in', targets)
      .execute();
    expect(audited).toHaveLength(10);

    // Once per run: nothing left to act on.
    const again = await bulk(owner, { action: 'cancel', filter: { tag: 'bulk-a' }, dryRun: true });
    expect(again.data).toEqual({ count: 0 });
  });

  it("acts only within the caller's rights: 403 without them, 404 elsewhere, own tenants only", async () => {
    const dev = await queued(3, 'bulk-b', h.ids.dev);
    const prod = await queued(2, 'bulk-b', h.ids.prod);
    expect(
      (await bulk(readonly, { action: 'cancel', filter: { tag: 'bulk-b' } })).response.status,
    ).toBe(403);
    expect(
      (await bulk(outsider, { action: 'cancel', filter: { tag: 'bulk-b' } })).response.status,
    ).toBe(404);
    expect((await bulk(devOnly, { action: 'cancel', ids: prod, dryRun: true })).data).toEqual({
      count: 0,
    });
    const started = await bulk(devOnly, { action: 'cancel', filter: { tag: 'bulk-b' } });
    expect(started.data?.count).toBe(3);
    await finished(runOf(started.data)?.id as string);
    expect(await outcomes(dev)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await outcomes(prod)).toEqual(['pending', 'pending']);
    const bad = await owner.POST('/api/workspaces/{ws}/bulk-actions', {
      params: ws,
      body: { action: 'cancel', ids: prod, filter: { tag: 'bulk-b' } },
    });
    expect(bad.response.status).toBe(400);
  });
});

describe('rights that end before the action runs', () => {
  it('blocks the action and touches nothing when the member was removed meanwhile', async () => {
    const member = h.as(await h.member('bulk-leaver@demo.test', 'manager', null));
    const targets = await queued(2, 'bulk-d');
    await worker.close();
    try {
      const started = await bulk(member, { action: 'cancel', filter: { tag: 'bulk-d' } });
      expect(started.response.status).toBe(202);
      const user = await h.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'bulk-leaver@demo.test')
        .executeTakeFirstOrThrow();
      await h.db.deleteFrom('memberships').where('user_id', '=', user.id).execute();
      worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
      const run = await finished(runOf(started.data)?.id as string);
      expect(run.outcome).toBe('blocked');
      expect(run.failures.map((f) => f.code)).toContain('bulk.rights_ended');
      expect(await outcomes(targets)).toEqual(['pending', 'pending']);
    } finally {
      if (!worker) worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
    }
  });

  it('blocks the action and touches nothing when the API token that asked was revoked meanwhile', async () => {
    const made = await owner.POST('/api/workspaces/{ws}/tokens', {
      params: ws,
      body: { name: 'bulk token', role: 'manager' },
    });
    const { id, token } = made.data as { id: string; token: string };
    const service = h.as({ name: 'bulk token', headers: { authorization: `Bearer ${token}` } });
    const targets = await queued(2, 'bulk-t');
    await worker.close();
    try {
      const started = await bulk(service, { action: 'cancel', filter: { tag: 'bulk-t' } });
      expect(started.response.status).toBe(202);
      const revoked = await owner.DELETE('/api/workspaces/{ws}/tokens/{id}', {
        params: { path: { ws: 'contoso', id } },
      });
      expect(revoked.response.ok).toBe(true);
      worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
      const run = await finished(runOf(started.data)?.id as string);
      expect(run.outcome).toBe('blocked');
      expect(run.failures.map((f) => f.code)).toContain('bulk.rights_ended');
      expect(await outcomes(targets)).toEqual(['pending', 'pending']);
    } finally {
      if (!worker) worker = await runTestWorker(h.t, h.registry, { concurrency: 2 });
    }
  });
});

describe('bulk retry', () => {
  it('starts each run that did not succeed again, linked by retryOf, once', async () => {
    const runs = await queued(3, 'bulk-c');
    for (const id of runs) await h.runs.complete(id, { outcome: 'failed', failures: [] });
    expect(
      (await bulk(readonly, { action: 'retry', filter: { tag: 'bulk-c' } })).response.status,
    ).toBe(403);
    const started = await bulk(owner, { action: 'retry', filter: { tag: 'bulk-c' } });
    expect(started.data?.count).toBe(3);
    const run = await finished(runOf(started.data)?.id as string);
    expect(run.summary_counts).toMatchObject({ retried: 3 });
    const retries = await h.db
      .selectFrom('operation_runs')
      .select('retry_of')
      .where('retry_of', 'in', runs)
      .execute();
    expect(retries.map((r) => r.retry_of).sort()).toEqual([...runs].sort());
    const again = await bulk(owner, { action: 'retry', filter: { tag: 'bulk-c' }, dryRun: true });
    expect(again.data).toEqual({ count: 0 });
  });
});
