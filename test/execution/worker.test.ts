import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { demoSleep } from '../../src/catalog/demo-sleep.js';
import { pause } from '../../src/catalog/simulate.js';
import type { RunRow } from '../../src/db/schema.js';
import { cancelRun } from '../../src/execution/cancel.js';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf, runTestWorker } from '../support/worker.js';

const input = z.object({ tag: z.string() });

const counting = defineOperation({
  type: 'test.counting',
  label: 'Counting',
  scope: 'tenant',
  input,
  identity: (i) => i,
  async run(ctx) {
    for (let i = 1; i <= 4; i++) {
      await ctx.progress({ processed: i, total: 4 });
      await ctx.count('items', 2);
    }
    return {
      outcome: 'partially_succeeded',
      counts: { failed: 1 },
      failures: [{ code: 'item.failed', message: 'one item for ops@contoso.com failed' }],
    };
  },
});

const throwing = defineOperation({
  type: 'test.throwing',
  label: 'Throwing',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle: { retries: 1 },
  async run(ctx) {
    throw new Error(
      `attempt ${ctx.attempt} failed: password=hunter2 for postgres://svc:pw@db/x\n    at run (/srv/app.js:1:1)`,
    );
  },
});

/** Ignores its signal: only the wrapper's hard stop ends it. */
const hanging = defineOperation({
  type: 'test.hanging',
  label: 'Hanging',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle: { retries: 0, timeoutSeconds: 1 },
  async run() {
    // Past the 1 s timeout plus the wrapper's 2 s stop grace (STOP_GRACE_MS): late.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    return { outcome: 'succeeded' };
  },
});

/** Waits until aborted, then ends the way a cooperative handler does. */
const waiting = defineOperation({
  type: 'test.waiting',
  label: 'Waiting',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle: { retries: 0, heartbeatSeconds: 1 },
  async run(ctx) {
    await pause(60_000, ctx.signal).catch(() => undefined);
    return { outcome: 'cancelled' };
  },
});

/** The README's pattern: works until its signal aborts, then returns what it did. */
const looping = defineOperation({
  type: 'test.looping',
  label: 'Looping',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle: { retries: 0, heartbeatSeconds: 1 },
  async run(ctx) {
    let items = 0;
    while (!ctx.signal.aborted) {
      items++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { outcome: 'cancelled', counts: { items } };
  },
});

/** Returns counts the ledger refuses, so the wrapper itself throws while completing the run. */
const crashing = defineOperation({
  type: 'test.crashing',
  label: 'Crashing',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle: { retries: 0 },
  run: async () => ({ outcome: 'succeeded', counts: { items: -5 } }),
});

const registry = registryOf(counting, throwing, hanging, waiting, looping, demoSleep, crashing);
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let worker: Awaited<ReturnType<typeof runTestWorker>>;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  worker = await runTestWorker(t, registry);
});
afterAll(async () => {
  await worker?.close();
});

async function start(
  type: string,
  tag: string,
  extra: Record<string, unknown> = {},
): Promise<RunRow> {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type,
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { tag, ...extra },
      initiatorUserId: scope.userId,
    },
  );
  return run;
}

async function settled(id: string, within = 10_000): Promise<RunRow> {
  return await until(
    async () => {
      const run = await runs.get(id);
      return run?.status === 'completed' ? run : undefined;
    },
    { within, what: `run ${id} to complete` },
  );
}

async function events(
  id: string,
): Promise<Array<{ kind: string; payload: Record<string, unknown> }>> {
  return await t.db
    .selectFrom('run_events')
    .select(['kind', 'payload'])
    .where('run_id', '=', id)
    .orderBy('id')
    .execute();
}

describe('worker wrapper on the real queue', () => {
  it('runs a handler to its outcome with progress and counts, sanitized', async () => {
    const run = await settled((await start('test.counting', 'a')).id);
    expect(run).toMatchObject({
      outcome: 'partially_succeeded',
      attempt: 1,
      progress_processed: 4,
      progress_total: 4,
      summary_counts: { items: 8, failed: 1 },
      failures: [{ code: 'item.failed', message: 'one item for [email] failed' }],
      worker_id: null,
    });
    expect(run.queue_job_id).not.toBeNull();
    expect((await events(run.id)).map((e) => e.kind)).toEqual(['created', 'running', 'completed']);
  });

  it('a demo.sleep run goes queued → running → succeeded (how fast: `npm run bench -- pickup`)', async () => {
    const started = await start('demo.sleep', 'fast', { seconds: 0 });
    const run = await settled(started.id, 5_000);
    expect(run.outcome).toBe('succeeded');
    expect((await events(run.id)).map((e) => e.kind)).toEqual(['created', 'running', 'completed']);
  });

  it('a throwing handler is retried, then failed with sanitized failures', async () => {
    const run = await settled((await start('test.throwing', 'b')).id, 15_000);
    expect(run).toMatchObject({ outcome: 'failed', attempt: 2 });
    expect(run.failures).toHaveLength(2);
    for (const failure of run.failures) {
      expect(failure.code).toBe('handler.error');
      expect(failure.message).not.toMatch(/hunter2|svc:pw|at run|app\.js/);
    }
    expect((await events(run.id)).map((e) => e.kind)).toEqual([
      'created',
      'running',
      'attempt_failed',
      'running',
      'completed',
    ]);
  });

  it('a handler past its timeout is stopped and failed with queue.timeout; its late result is recorded, not applied', async () => {
    const run = await settled((await start('test.hanging', 'c')).id);
    expect(run).toMatchObject({
      outcome: 'failed',
      failures: [expect.objectContaining({ code: 'queue.timeout' })],
    });
    const late = await until(
      async () => (await events(run.id)).find((e) => e.kind === 'late_completion'),
      {
        within: 5_000,
        what: 'the late completion',
      },
    );
    expect(late.payload).toMatchObject({ outcome: 'succeeded' });
    expect((await runs.get(run.id))?.outcome).toBe('failed');
  });

  it('cancel of a running run is observed within one heartbeat and ends it cancelled', async () => {
    const started = await start('test.waiting', 'd');
    await until(async () => (await runs.get(started.id))?.status === 'running', {
      what: 'running',
    });
    const result = await cancelRun({ db: t.db, runs }, started.id, { userId: scope.userId });
    expect(result.effect).toBe('cancel_requested');
    const run = await settled(started.id, 2_500); // heartbeat 1 s
    expect(run).toMatchObject({
      outcome: 'cancelled',
      failures: [expect.objectContaining({ code: 'run.cancelled' })],
    });
  });

  it('a cooperative handler cancelled through RunService ends cancelled with its counts, and is not late', async () => {
    const started = await start('test.looping', 'coop');
    await until(async () => (await runs.get(started.id))?.status === 'running', {
      what: 'running',
    });
    expect((await runs.requestCancel(started.id, { userId: scope.userId })).effect).toBe(
      'cancel_requested',
    );
    const run = await settled(started.id, 5_000);
    expect(run.outcome).toBe('cancelled');
    expect(run.summary_counts).toMatchObject({ items: expect.any(Number) });
    // The task has returned once its job is gone: anything the wrapper records, it has recorded.
    await until(
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from graphile_worker._private_jobs where key = ${run.id}::text`.execute(
          t.db,
        );
        return rows[0]?.n === 0;
      },
      { what: 'the job to finish' },
    );
    const kinds = (await events(run.id)).map((e) => e.kind);
    expect(kinds).not.toContain('late_completion');
    expect(kinds.at(-1)).toBe('completed');
  });

  it('failed-job bridge: when the wrapper itself crashes on the last attempt, the run still ends failed', async () => {
    const run = await settled((await start('test.crashing', 'e')).id);
    expect(run).toMatchObject({
      outcome: 'failed',
      failures: [expect.objectContaining({ code: 'queue.attempts_exhausted' })],
    });
  });

  it('records this worker and the queue worker ids it runs under', async () => {
    const row = await t.db
      .selectFrom('workers')
      .selectAll()
      .where('id', '=', worker.id)
      .executeTakeFirstOrThrow();
    expect(row.pid).toBe(process.pid);
    expect(row.queue_worker_ids).toHaveLength(4); // one per concurrent slot
    expect(row.queue_worker_ids.every((id) => id.startsWith('worker-'))).toBe(true);
  });
});
