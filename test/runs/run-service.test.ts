import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/db/schema.js';
import { RunService, type StartRun } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope, testClock } from '../support/fixtures.js';

let t: TestDatabase;
let scope: Scope;
const clock = testClock();
let runs: RunService;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db, clock });
});

let n = 0;
function start(overrides: Partial<StartRun> = {}): StartRun {
  n += 1;
  return {
    workspaceId: scope.workspaceId,
    tenantId: scope.tenantId,
    type: 'inventory.sync',
    identity: { scope: `case-${n}` },
    input: { scope: 'all' },
    initiatorUserId: scope.userId,
    ...overrides,
  };
}

async function events(runId: string): Promise<string[]> {
  const rows = await t.db
    .selectFrom('run_events')
    .select('kind')
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.kind);
}

async function snapshot(runId: string): Promise<RunRow> {
  return await t.db
    .selectFrom('operation_runs')
    .selectAll()
    .where('id', '=', runId)
    .executeTakeFirstOrThrow();
}

async function running(overrides: Partial<StartRun> = {}): Promise<RunRow> {
  const { run } = await runs.createOrReuse(start(overrides));
  const moved = await runs.markRunning(run.id, { workerId: 'worker-a' });
  if (!moved.moved) throw new Error('fixture could not mark running');
  return moved.run;
}

describe('createOrReuse', () => {
  it('creates a queued, pending run with a created event', async () => {
    const { run, reused } = await runs.createOrReuse(start());
    expect(reused).toBe(false);
    expect(run).toMatchObject({
      status: 'queued',
      outcome: 'pending',
      attempt: 0,
      summary_counts: {},
      failures: [],
    });
    expect(run.identity_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(run.created_at.toISOString()).toBe(clock().toISOString());
    expect(await events(run.id)).toEqual(['created']);
  });

  it('reuses the active run with the same identity, whoever starts it', async () => {
    const first = await runs.createOrReuse(start({ identity: { scope: 'same' } }));
    const second = await runs.createOrReuse(
      start({ identity: { scope: 'same' }, initiatorUserId: null }),
    );
    expect(second).toMatchObject({ reused: true, run: { id: first.run.id } });
    expect(await events(first.run.id)).toEqual(['created', 'start_reused']);
  });

  it('starts a new run once the previous one is terminal', async () => {
    const first = await runs.createOrReuse(start({ identity: { scope: 'again' } }));
    await runs.complete(first.run.id, { outcome: 'succeeded' });
    const second = await runs.createOrReuse(start({ identity: { scope: 'again' } }));
    expect(second.reused).toBe(false);
    expect(second.run.id).not.toBe(first.run.id);
  });

  it('keeps workspace-level runs (no tenant) apart from tenant runs', async () => {
    const tenantRun = await runs.createOrReuse(start({ identity: { scope: 'level' } }));
    const workspaceRun = await runs.createOrReuse(
      start({ identity: { scope: 'level' }, tenantId: null }),
    );
    const again = await runs.createOrReuse(start({ identity: { scope: 'level' }, tenantId: null }));
    expect(workspaceRun.run.id).not.toBe(tenantRun.run.id);
    expect(again).toMatchObject({ reused: true, run: { id: workspaceRun.run.id } });
  });
});

describe('transitions', () => {
  it('markRunning counts the attempt and records the worker', async () => {
    const run = await running();
    expect(run).toMatchObject({ status: 'running', attempt: 1, worker_id: 'worker-a' });
    expect(run.started_at).not.toBeNull();
    expect(run.last_heartbeat_at).not.toBeNull();
    const again = await runs.markRunning(run.id, { workerId: 'worker-b' });
    expect(again).toMatchObject({
      moved: false,
      reason: 'wrong_state',
      run: { worker_id: 'worker-a' },
    });
  });

  it('records a failed attempt and puts the run back in the queue, sanitized', async () => {
    const run = await running();
    const error = new Error(
      'Graph 503 for admin@contoso.com with Bearer eyJhbGciOi.abcdefghij.klmnopqrst',
    );
    const result = await runs.recordAttemptFailure(run.id, error);
    expect(result.moved).toBe(true);
    const stored = await snapshot(run.id);
    expect(stored).toMatchObject({ status: 'queued', worker_id: null, attempt: 1 });
    expect(stored.failures).toHaveLength(1);
    expect(stored.failures[0]?.message).not.toMatch(/contoso\.com|eyJ|at /);
    expect((await runs.markRunning(run.id, { workerId: 'worker-b' })).run?.attempt).toBe(2);
    expect(await events(run.id)).toEqual(['created', 'running', 'attempt_failed', 'running']);
  });

  it('a hand-back is its own event with the reason, keeps no failure and resets progress', async () => {
    const run = await running();
    await runs.reportProgress(run.id, { processed: 450, total: 1801 });
    const back = await runs.handBack(run.id, 'worker_shutdown');
    expect(back.moved).toBe(true);
    expect(await snapshot(run.id)).toMatchObject({
      status: 'queued',
      worker_id: null,
      failures: [],
      progress_processed: null,
      progress_total: null,
    });
    const rows = await t.db
      .selectFrom('run_events')
      .select(['kind', 'payload'])
      .where('run_id', '=', run.id)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.kind)).toEqual(['created', 'running', 'handed_back']);
    expect(rows[2]?.payload).toMatchObject({
      attempt: 1,
      reason: 'worker_shutdown',
      message: expect.stringMatching(/worker shut down/),
    });
    const again = await runs.markRunning(run.id, { workerId: 'worker-b' });
    expect(again.run).toMatchObject({ attempt: 2, progress_processed: null, progress_total: null });
  });

  it('a failed attempt also starts the next attempt with fresh progress', async () => {
    const run = await running();
    await runs.reportProgress(run.id, { processed: 450, total: 1801 });
    await runs.recordAttemptFailure(run.id, new Error('Graph 503'));
    expect(await snapshot(run.id)).toMatchObject({
      status: 'queued',
      progress_processed: null,
      progress_total: null,
    });
  });

  it('completes with outcome, counts and sanitized failures', async () => {
    const run = await running();
    await runs.addCounts(run.id, { items: 7 });
    const result = await runs.complete(run.id, {
      outcome: 'partially_succeeded',
      counts: { failed: 2, items: 10 },
      failures: [{ code: 'graph.forbidden', message: 'password=hunter2 rejected' }],
    });
    expect(result.moved).toBe(true);
    expect(result.run).toMatchObject({
      status: 'completed',
      outcome: 'partially_succeeded',
      worker_id: null,
      summary_counts: { items: 10, failed: 2 },
      failures: [{ code: 'graph.forbidden', message: 'password=[redacted] rejected' }],
    });
    expect(result.run?.completed_at?.toISOString()).toBe(clock().toISOString());
  });

  it('adds counts atomically and keeps progress in range', async () => {
    const run = await running();
    await runs.addCounts(run.id, { items: 3 });
    await runs.addCounts(run.id, { items: 4, skipped: 1 });
    await runs.reportProgress(run.id, { processed: 4, total: 10 });
    expect(await snapshot(run.id)).toMatchObject({
      summary_counts: { items: 7, skipped: 1 },
      progress_processed: 4,
      progress_total: 10,
    });
    await expect(runs.reportProgress(run.id, { processed: 11, total: 10 })).rejects.toThrow(
      /exceeds/,
    );
    await expect(runs.reportProgress(run.id, { processed: -1 })).rejects.toThrow(/integer/);
    await expect(runs.addCounts(run.id, { items: -1 })).rejects.toMatchObject({
      code: 'invalid_counts',
    });
  });

  it('refuses a counts merge that would pass 2^53, leaving counts unchanged', async () => {
    const run = await running();
    await runs.addCounts(run.id, { items: Number.MAX_SAFE_INTEGER - 1 });
    await expect(runs.addCounts(run.id, { items: 5 })).rejects.toMatchObject({
      code: 'invalid_counts',
    });
    expect((await snapshot(run.id)).summary_counts).toEqual({ items: Number.MAX_SAFE_INTEGER - 1 });
  });

  it('refuses invalid counts at completion without completing the run', async () => {
    const run = await running();
    await expect(
      runs.complete(run.id, { outcome: 'succeeded', counts: { items: 1.5 } }),
    ).rejects.toMatchObject({
      code: 'invalid_counts',
    });
    expect(await snapshot(run.id)).toMatchObject({ status: 'running', outcome: 'pending' });
  });

  it('heartbeats one run, or the in-flight runs of a worker in one statement', async () => {
    const a = await running();
    const b = await running();
    clock.advance(5_000);
    expect((await runs.heartbeatWorker('worker-a', [a.id, b.id])).map((r) => r.id)).toEqual(
      expect.arrayContaining([a.id, b.id]),
    );
    expect((await snapshot(a.id)).last_heartbeat_at?.getTime()).toBe(clock().getTime());
    clock.advance(5_000);
    expect((await runs.heartbeat(b.id)).run?.last_heartbeat_at?.getTime()).toBe(clock().getTime());
  });

  it('a worker heartbeat refreshes only its in-flight runs, not every row that names it', async () => {
    // A run whose handler is gone (its completion write was lost in an outage) still names the
    // worker; the worker's heartbeat must not keep it looking alive.
    const executing = await running();
    const abandoned = await running();
    const before = (await snapshot(abandoned.id)).last_heartbeat_at?.getTime();
    clock.advance(5_000);
    const touched = await runs.heartbeatWorker('worker-a', [executing.id]);
    expect(touched.map((r) => r.id)).toEqual([executing.id]);
    expect((await snapshot(executing.id)).last_heartbeat_at?.getTime()).toBe(clock().getTime());
    expect((await snapshot(abandoned.id)).last_heartbeat_at?.getTime()).toBe(before);
    // Another worker's id never refreshes this worker's run, and an empty set writes nothing.
    expect(await runs.heartbeatWorker('worker-b', [executing.id])).toEqual([]);
    expect(await runs.heartbeatWorker('worker-a', [])).toEqual([]);
  });
});

describe('compare-and-set: a terminal run is never mutated', () => {
  it('completing twice is a no-op that reports already_terminal', async () => {
    const run = await running();
    await runs.complete(run.id, { outcome: 'succeeded', counts: { items: 1 } });
    const before = await snapshot(run.id);
    clock.advance(1_000);
    const second = await runs.complete(run.id, {
      outcome: 'failed',
      counts: { items: 99 },
      failures: ['late'],
    });
    expect(second).toMatchObject({ moved: false, reason: 'already_terminal' });
    expect(await snapshot(run.id)).toEqual(before);
  });

  it('complete after force-fail changes nothing', async () => {
    const run = await running();
    const forced = await runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting.',
      thresholdSeconds: 15,
      evidence: { workerId: 'worker-a' },
      source: 'reconciler',
    });
    expect(forced.moved).toBe(true);
    expect(forced.run?.reconciliation).toMatchObject({
      reasonCode: 'run.heartbeat_lost',
      thresholdSeconds: 15,
    });
    const before = await snapshot(run.id);
    expect((await runs.complete(run.id, { outcome: 'succeeded' })).moved).toBe(false);
    expect(await snapshot(run.id)).toEqual(before);
    expect(await events(run.id)).toEqual(['created', 'running', 'reconciled']);
  });

  it.each([
    ['reportProgress', (id: string) => runs.reportProgress(id, { processed: 1, total: 2 })],
    ['addCounts', (id: string) => runs.addCounts(id, { items: 1 })],
    ['heartbeat', (id: string) => runs.heartbeat(id)],
    ['markRunning', (id: string) => runs.markRunning(id, { workerId: 'w' })],
    ['recordAttemptFailure', (id: string) => runs.recordAttemptFailure(id, new Error('x'))],
    ['requestCancel', (id: string) => runs.requestCancel(id, { userId: null })],
    [
      'forceFail',
      (id: string) =>
        runs.forceFail(id, {
          reasonCode: 'run.stale_running',
          message: 'm',
          thresholdSeconds: 1,
          evidence: {},
          source: 't',
        }),
    ],
  ])('%s after terminal is a no-op', async (_name, act) => {
    const run = await running();
    await runs.complete(run.id, { outcome: 'succeeded' });
    const before = await snapshot(run.id);
    const eventsBefore = await events(run.id);
    clock.advance(1_000);
    expect(await act(run.id)).toMatchObject({ moved: false, reason: 'already_terminal' });
    expect(await snapshot(run.id)).toEqual(before);
    expect(await events(run.id)).toEqual(eventsBefore);
  });

  it('reports not_found for an unknown id', async () => {
    expect(
      await runs.complete('0190b6a0-0000-7000-8000-000000000000', { outcome: 'succeeded' }),
    ).toEqual({
      moved: false,
      reason: 'not_found',
      run: undefined,
    });
  });

  it('forceFail with an expectation does not fire when a heartbeat arrived after the evidence', async () => {
    const run = await running();
    const seen = run.last_heartbeat_at;
    clock.advance(1_000);
    await runs.heartbeat(run.id);
    const result = await runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
      expect: { status: 'running', noHeartbeatAfter: seen },
    });
    expect(result).toMatchObject({
      moved: false,
      reason: 'wrong_state',
      run: { status: 'running' },
    });
  });
});

describe('cancel', () => {
  it('cancels a queued run at once', async () => {
    const { run } = await runs.createOrReuse(start());
    const result = await runs.requestCancel(run.id, { userId: scope.userId });
    expect(result).toMatchObject({
      moved: true,
      effect: 'cancelled',
      run: { status: 'completed', outcome: 'cancelled' },
    });
    expect(await events(run.id)).toEqual(['created', 'cancel_requested', 'completed']);
  });

  it('flags a running run and lets its handler end it', async () => {
    const run = await running();
    const result = await runs.requestCancel(run.id, { userId: scope.userId });
    expect(result).toMatchObject({
      moved: true,
      effect: 'cancel_requested',
      run: { status: 'running' },
    });
    expect(result.run?.cancel_requested_at).not.toBeNull();
    expect((await runs.requestCancel(run.id, { userId: scope.userId })).moved).toBe(false);
    await runs.complete(run.id, { outcome: 'cancelled' });
    expect(await events(run.id)).toEqual(['created', 'running', 'cancel_requested', 'completed']);
  });

  it('a cancel-requested queued run cannot be picked up', async () => {
    const run = await running();
    await runs.requestCancel(run.id, { userId: null });
    await runs.recordAttemptFailure(run.id, new Error('worker lost'));
    expect((await runs.markRunning(run.id, { workerId: 'worker-b' })).moved).toBe(false);
  });
});

describe('transactions', () => {
  it('takes part in the caller transaction: a rollback leaves no run and no event', async () => {
    const request = start({ identity: { scope: 'rolled-back' } });
    const countEvents = async () =>
      (await t.db.selectFrom('run_events').select('id').execute()).length;
    const eventsBefore = await countEvents();
    let runId = '';
    await expect(
      t.db.transaction().execute(async (trx) => {
        const { run } = await runs.createOrReuse(request, { trx });
        runId = run.id;
        await runs.markRunning(run.id, { workerId: 'w' }, { trx });
        throw new Error('enqueue failed');
      }),
    ).rejects.toThrow('enqueue failed');
    expect(runId).not.toBe('');
    expect(await runs.get(runId)).toBeUndefined();
    expect(await countEvents()).toBe(eventsBefore);
    expect((await runs.createOrReuse(request)).reused).toBe(false);
  });
});

describe('notifications (DESIGN §8)', () => {
  async function notices(runId: string) {
    return await t.db.selectFrom('notifications').selectAll().where('run_id', '=', runId).execute();
  }

  it('go to the initiator only, once, when the run becomes terminal, linking to the run', async () => {
    const run = await running();
    await runs.addCounts(run.id, { items: 1 });
    expect(await notices(run.id)).toEqual([]); // nothing while active
    await runs.complete(run.id, {
      outcome: 'failed',
      failures: [{ code: 'graph.forbidden', message: 'Graph denied access.' }],
    });
    await runs.complete(run.id, { outcome: 'succeeded' }); // no-op: no second notification
    const [notice, ...more] = await notices(run.id);
    expect(more).toEqual([]);
    expect(notice).toMatchObject({
      user_id: scope.userId,
      title: 'inventory.sync: failed',
      link: `/admin/operations/${run.id}`,
      read_at: null,
    });
    expect(notice?.body).toMatch(/^Failed — The operation reported a failure\./);
    expect(notice?.body).not.toContain('Graph denied access'); // the handler's words stay in failures
  });

  it('notify nobody for system runs', async () => {
    const { run } = await runs.createOrReuse(start({ initiatorUserId: null }));
    await runs.complete(run.id, { outcome: 'succeeded' });
    expect(await notices(run.id)).toEqual([]);
  });

  it('say so when the run was reconciled, never more calmly', async () => {
    const run = await running();
    await runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
    const [notice] = await notices(run.id);
    expect(notice?.title).toBe('inventory.sync: failed, reconciled');
    expect(notice?.body).toMatch(
      /^Automatically marked failed: no progress within the lifecycle window\./,
    );
  });
});
