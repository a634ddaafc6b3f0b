import { sql } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatePasses } from '../../src/execution/gate.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { RunChangePublisher } from '../../src/runs/run-change-publisher.js';
import { RunService, type Transition } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { numberedSync, queuedRuns } from '../support/operations.js';
import { quietLogger } from '../support/worker.js';

// A worker's starts and completions share statements while one is on its way (SharedStatements):
// each run must still get exactly the answer its own compare-and-set would have given, and one
// run's bad value must not fail the others.
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let changes: RunChangePublisher;
const registry = new OperationRegistry([numberedSync]);
const queued = queuedRuns(() => ({ t, scope, runs, registry }));
const GATE = gatePasses();

let listener: pg.Client;
const notices: string[] = [];
const noticesOf = (id: string) => notices.filter((n) => n === id).length;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  changes = new RunChangePublisher(t.db, quietLogger);
  listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  listener.on('notification', (n) =>
    notices.push((JSON.parse(n.payload ?? '{}') as { id: string }).id),
  );
  await listener.query('listen runwarden_run_changes');
  return async () => {
    await changes.close();
    await listener.end();
  };
});

const start = (id: string, job: string | null = null) =>
  runs.markRunning(
    id,
    { workerId: 'w-batch', queueJobId: job },
    { changes, onlyIf: GATE, shared: true },
  );

/** The transaction ids that wrote the runs' current rows: one per statement that moved them. */
async function writers(ids: string[]): Promise<Set<string>> {
  const rows = await sql<{ xmin: string }>`select xmin::text from operation_runs
    where id = any(${ids}::uuid[])`.execute(t.db);
  return new Set(rows.rows.map((r) => r.xmin));
}

async function runningEvents(id: string): Promise<number> {
  const rows = await t.db
    .selectFrom('run_events')
    .select('id')
    .where('run_id', '=', id)
    .where('kind', '=', 'running')
    .execute();
  return rows.length;
}

describe("a worker's shared start statements", () => {
  it('start every run that arrives at once, in fewer statements, each with its job and one event', async () => {
    const batch = await Promise.all(Array.from({ length: 12 }, () => queued()));
    const results = await Promise.all(batch.map((run, i) => start(run.id, String(1000 + i))));
    for (const [i, result] of results.entries()) {
      expect(result.moved).toBe(true);
      expect(result.run).toMatchObject({
        id: batch[i]?.id,
        status: 'running',
        attempt: 1,
        worker_id: 'w-batch',
        queue_job_id: String(1000 + i),
      });
      expect(await runningEvents(batch[i]!.id)).toBe(1);
    }
    // The first went alone; the eleven that arrived meanwhile shared the next statement.
    expect((await writers(batch.map((r) => r.id))).size).toBeLessThan(batch.length);
  });

  it('give each run in a shared statement its own answer: gate, cancel, finished, gone, twice', async () => {
    const plain = await queued();
    const cancelRequested = await queued();
    await t.db
      .updateTable('operation_runs')
      .set({ cancel_requested_at: new Date() })
      .where('id', '=', cancelRequested.id)
      .execute();
    const finished = await queued();
    await runs.complete(finished.id, { outcome: 'succeeded' });
    // The gate: a tenant deactivated after the run was queued.
    const other = await seedScope(t.db);
    const gated = await queuedRuns(() => ({ t, scope: other, runs, registry }))();
    await t.db
      .updateTable('tenants')
      .set({ status: 'inactive' })
      .where('id', '=', other.tenantId)
      .execute();
    const gone = '01900000-0000-7000-8000-000000000000';
    const twice = await queued();

    // A start in flight first, so the rest wait and share the next statement.
    const [, ...answers] = await Promise.all([
      start((await queued()).id),
      start(plain.id),
      start(cancelRequested.id),
      start(finished.id),
      start(gated.id),
      start(gone),
      start(twice.id, '1'),
      start(twice.id, '2'),
    ]);
    const [a, b, c, d, e, f, g] = answers as [
      Transition,
      Transition,
      Transition,
      Transition,
      Transition,
      Transition,
      Transition,
    ];
    expect(a).toMatchObject({ moved: true, run: { status: 'running' } });
    expect(b).toMatchObject({ moved: false, reason: 'wrong_state', run: { status: 'queued' } });
    expect(c).toMatchObject({ moved: false, reason: 'already_terminal' });
    expect(d).toMatchObject({ moved: false, reason: 'wrong_state', run: { status: 'queued' } });
    expect(e).toMatchObject({ moved: false, reason: 'not_found' });
    // The same run named twice: exactly one of its starts moved it; the other (another job) did not.
    expect([f.moved, g.moved].filter(Boolean)).toHaveLength(1);
    expect([f, g].find((x) => !x.moved)).toMatchObject({
      reason: 'wrong_state',
      run: { status: 'running' },
    });
    expect(await runningEvents(twice.id)).toBe(1);
    for (const id of [cancelRequested.id, finished.id, gated.id])
      expect(await runningEvents(id)).toBe(0);
  });

  it('that fail are tried again one run each: only the run with the bad value fails', async () => {
    const first = await queued();
    const batch = await Promise.all(Array.from({ length: 4 }, () => queued()));
    const answers = await Promise.allSettled([
      start(first.id),
      // Not a job id: the shared statement fails, and so does this run's own.
      ...batch.map((run, i) => start(run.id, i === 2 ? 'not-a-job' : String(i))),
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const bad = await t.db
      .selectFrom('operation_runs')
      .select(['status', 'attempt'])
      .where('id', '=', batch[2]!.id)
      .executeTakeFirstOrThrow();
    expect(bad).toEqual({ status: 'queued', attempt: 0 });
    expect(await runningEvents(batch[2]!.id)).toBe(0);
    for (const i of [0, 1, 3]) expect(await runningEvents(batch[i]!.id)).toBe(1);
  });

  it('write each run its own progress report, in fewer statements, and none to a finished run', async () => {
    const batch = await Promise.all(Array.from({ length: 8 }, () => queued()));
    for (const run of batch) await runs.markRunning(run.id, { workerId: 'w-batch' });
    await runs.complete(batch[5]!.id, { outcome: 'succeeded' });
    const answers = await Promise.all(
      batch.map((run, i) =>
        runs.reportProgress(
          run.id,
          { processed: i, total: i % 2 ? null : 10 },
          { changes, shared: true },
        ),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      if (i === 5) {
        expect(answer).toMatchObject({ moved: false, reason: 'already_terminal' });
        continue;
      }
      expect(answer).toMatchObject({
        moved: true,
        run: { id: batch[i]!.id, progress_processed: i, progress_total: i % 2 ? null : 10 },
      });
    }
    const written = await t.db
      .selectFrom('operation_runs')
      .select(['id', 'progress_processed'])
      .where('id', '=', batch[5]!.id)
      .executeTakeFirstOrThrow();
    expect(written.progress_processed).toBeNull();
    const moved = batch.filter((_, i) => i !== 5).map((r) => r.id);
    expect((await writers(moved)).size).toBeLessThan(moved.length);
  });

  it('announce each moved run once through `changes`, and never by a NOTIFY of their own', async () => {
    const announced: string[] = [];
    const collect = { changed: (run: { id: string }) => announced.push(run.id) };
    const batch = await Promise.all(Array.from({ length: 6 }, () => queued()));
    const fence = await queued();
    await until(() => batch.concat(fence).every((r) => noticesOf(r.id) === 1), {
      what: 'the creation notices',
    });
    await Promise.all(
      batch.map((run) =>
        runs.markRunning(run.id, { workerId: 'w-batch' }, { changes: collect, shared: true }),
      ),
    );
    await Promise.all(
      batch.map((run) =>
        runs.reportProgress(run.id, { processed: 1 }, { changes: collect, shared: true }),
      ),
    );
    // A plain write is the fence: every notice sent before it has arrived once its own has.
    await runs.markRunning(fence.id, { workerId: 'w-plain' });
    await until(() => noticesOf(fence.id) === 2, { what: 'the fence notice' });
    for (const run of batch) expect(noticesOf(run.id)).toBe(1);
    expect(announced.sort()).toEqual(batch.flatMap((r) => [r.id, r.id]).sort());
  });

  it('take a start already made by this very job of this worker as its own (its answer was lost)', async () => {
    const run = await queued();
    await runs.markRunning(run.id, { workerId: 'w-batch', queueJobId: '77' });
    // The retry after a dropped connection: the same job finds the run started.
    expect(await start(run.id, '77')).toMatchObject({ moved: true, run: { status: 'running' } });
    // Another job, or another worker, did not start it.
    expect(await start(run.id, '78')).toMatchObject({ moved: false, reason: 'wrong_state' });
    const other = await runs.markRunning(
      run.id,
      { workerId: 'w-other', queueJobId: '77' },
      { changes, onlyIf: GATE, shared: true },
    );
    expect(other).toMatchObject({ moved: false, reason: 'wrong_state' });
    expect(await runningEvents(run.id)).toBe(1);
  });
});
