import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoSleep } from '../../src/catalog/demo-sleep.js';
import { finishingJob } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { RunChangePublisher } from '../../src/runs/run-change-publisher.js';
import { type CompleteRun, RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger, registryOf } from '../support/worker.js';

// A worker's completions share statements while one is on its way (SharedStatements). A run
// completed in a shared statement must end exactly as its own statement would have ended it: the
// same columns, event, notice and job deletion; and one run's bad counts fail only that run.
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let changes: RunChangePublisher;
const registry = registryOf(demoSleep);
let tags = 0;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  changes = new RunChangePublisher(t.db, quietLogger);
  return async () => await changes.close();
});

/** A running run with its queue job, as a worker holds it. */
async function running() {
  tags += 1;
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'demo.sleep',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { seconds: 0, tag: `c${tags}` },
      initiatorUserId: scope.userId,
    },
  );
  const job = await sql<{ id: string }>`
    select id::text from graphile_worker._private_jobs where key = ${run.id}`.execute(t.db);
  const jobId = job.rows[0]?.id ?? '';
  await runs.markRunning(run.id, { workerId: 'w-done', queueJobId: jobId });
  return { id: run.id, jobId };
}

const shared = (run: { id: string; jobId: string }, result: CompleteRun, progress?: object) =>
  runs.complete(run.id, result, {
    changes,
    shared: true,
    ...finishingJob(run.jobId),
    ...progressOf(progress),
  });
const alone = (run: { id: string; jobId: string }, result: CompleteRun, progress?: object) =>
  runs.complete(run.id, result, { ...finishingJob(run.jobId), ...progressOf(progress) });
const progressOf = (progress?: object) =>
  progress ? { progress: progress as { processed: number; total: number | null } } : {};

/** What a person and a reader see of a finished run, without its ids and instants. */
async function ending(run: { id: string; jobId: string }) {
  const row = await t.db
    .selectFrom('operation_runs')
    .select([
      'status',
      'outcome',
      'summary_counts',
      'failures',
      'progress_processed',
      'progress_total',
      'reconciliation',
      'worker_id',
    ])
    .where('id', '=', run.id)
    .executeTakeFirstOrThrow();
  const events = await t.db
    .selectFrom('run_events')
    .select(['kind', 'payload'])
    .where('run_id', '=', run.id)
    .where('kind', '=', 'completed')
    .execute();
  const notices = await t.db
    .selectFrom('notifications')
    .select(['user_id', 'title', 'body'])
    .where('run_id', '=', run.id)
    .execute();
  const job = await sql<{ n: number }>`select count(*)::int as n
    from graphile_worker._private_jobs where id = ${run.jobId}::bigint`.execute(t.db);
  return { row, events, notices, jobsLeft: job.rows[0]?.n };
}

const RESULTS: Array<[CompleteRun, object | undefined]> = [
  [{ outcome: 'succeeded' }, undefined],
  [
    { outcome: 'succeeded', counts: { items: 3 } },
    { processed: 3, total: 3 },
  ],
  [{ outcome: 'failed', failures: [{ code: 'x.broke', message: 'It broke.' }] }, undefined],
  [
    {
      outcome: 'partially_succeeded',
      counts: { ok: 2, failed: 1 },
      failures: [{ code: 'x.one', message: 'One failed.' }],
    },
    { processed: 2, total: null },
  ],
  [{ outcome: 'blocked', failures: [{ code: 'x.blocked', message: 'Blocked.' }] }, undefined],
  [{ outcome: 'cancelled' }, { processed: 0, total: 10 }],
];

describe("a worker's shared completions", () => {
  it('end each run exactly as its own statement would, in fewer statements', async () => {
    const pairs = [];
    for (const [result, progress] of RESULTS) {
      const twin = await running();
      expect((await alone(twin, result, progress)).moved).toBe(true);
      pairs.push({ result, progress, twin, run: await running() });
    }
    // A run of the same worker outside the statements keeps its job.
    const bystander = await running();
    // One completion in flight first, so the rest arrive meanwhile and share the next statement.
    const answers = await Promise.all(pairs.map((p) => shared(p.run, p.result, p.progress)));
    for (const [i, p] of pairs.entries()) {
      expect(answers[i]).toMatchObject({ moved: true, run: { id: p.run.id, status: 'completed' } });
      const mine = await ending(p.run);
      expect(mine).toEqual(await ending(p.twin));
      expect(mine.events).toHaveLength(1);
      expect(mine.notices).toHaveLength(1);
      expect(mine.jobsLeft).toBe(0);
    }
    expect((await ending(bystander)).jobsLeft).toBe(1);
    const writers = await sql<{ xmin: string }>`select distinct xmin::text from operation_runs
      where id = any(${pairs.map((p) => p.run.id)}::uuid[])`.execute(t.db);
    expect(writers.rows.length).toBeLessThan(pairs.length);
  });

  it('give each run its own answer: finished, gone, named twice', async () => {
    const [first, plain, finished, twice] = [
      await running(),
      await running(),
      await running(),
      await running(),
    ];
    await runs.complete(finished.id, { outcome: 'failed' });
    const gone = { id: '01900000-0000-7000-8000-000000000001', jobId: '1' };
    const [, a, b, c, d, e] = await Promise.all([
      shared(first, { outcome: 'succeeded' }),
      shared(plain, { outcome: 'succeeded' }),
      shared(finished, { outcome: 'succeeded' }),
      shared(gone, { outcome: 'succeeded' }),
      shared(twice, { outcome: 'succeeded' }),
      shared(twice, { outcome: 'failed' }),
    ]);
    expect(a).toMatchObject({ moved: true });
    expect(b).toMatchObject({
      moved: false,
      reason: 'already_terminal',
      run: { outcome: 'failed' },
    });
    expect(c).toMatchObject({ moved: false, reason: 'not_found' });
    expect([d?.moved, e?.moved].filter(Boolean)).toHaveLength(1);
    expect([d, e].find((x) => !x?.moved)).toMatchObject({ reason: 'already_terminal' });
    expect((await ending(twice)).events).toHaveLength(1);
    // Only the runs that moved lost their jobs; a run that did not move keeps its own.
    expect((await ending(first)).jobsLeft).toBe(0);
    expect((await ending(plain)).jobsLeft).toBe(0);
    expect((await ending(finished)).jobsLeft).toBe(1);
  });

  it("fail only the run whose merged counts break the limit; the others' statement goes on", async () => {
    const first = await running();
    const full = await running();
    await runs.addCounts(
      full.id,
      Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 1])),
    );
    const others = [await running(), await running()];
    const answers = await Promise.allSettled([
      shared(first, { outcome: 'succeeded' }),
      shared(others[0]!, { outcome: 'succeeded' }),
      shared(full, {
        outcome: 'succeeded',
        counts: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`new${i}`, 1])),
      }),
      shared(others[1]!, { outcome: 'succeeded' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(answers[2]).toMatchObject({ reason: { code: 'invalid_counts' } });
    expect((await ending(full)).row.status).toBe('running');
    for (const run of others) expect((await ending(run)).row.status).toBe('completed');
  });
});
