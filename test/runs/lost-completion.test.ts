import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoSleep } from '../../src/catalog/demo-sleep.js';
import { finishingJob } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { RunChangePublisher } from '../../src/runs/run-change-publisher.js';
import { type CompletedBy, RunService, type Transition } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger, registryOf } from '../support/worker.js';

// A completion whose commit landed but whose answer was lost (a dropped connection) is written
// again by the worker's retry. The retry must find the run completed by this very attempt and job
// of this worker and answer as its own write: the wrapper then records no `late_completion`.
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let changes: RunChangePublisher;
const registry = registryOf(demoSleep);
let tags = 0;
const WORKER = 'w-lost';

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  changes = new RunChangePublisher(t.db, quietLogger);
  return async () => await changes.close();
});

interface Held {
  id: string;
  jobId: string;
  attempt: number;
}

/** A running run with its queue job, as the worker holds it. */
async function running(): Promise<Held> {
  tags += 1;
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'demo.sleep',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { seconds: 0, tag: `lost${tags}` },
      initiatorUserId: scope.userId,
    },
  );
  const job = await sql<{ id: string }>`
    select id::text from graphile_worker._private_jobs where key = ${run.id}`.execute(t.db);
  const jobId = job.rows[0]?.id ?? '';
  const started = await runs.markRunning(run.id, { workerId: WORKER, queueJobId: jobId });
  if (!started.moved) throw new Error('not started');
  return { id: run.id, jobId, attempt: started.run.attempt };
}

/** The wrapper's completion of `run` (shared or alone), as `by` completes it. */
function complete(run: Held, shared: boolean, by: CompletedBy): Promise<Transition> {
  const options = { ...finishingJob(run.jobId), by };
  return runs.complete(
    run.id,
    { outcome: 'succeeded' },
    shared ? { ...options, changes, shared: true } : options,
  );
}

/** As the wrapper takes an answer: a completion that did not move the run is a late result. */
async function asTheWrapper(run: Held, answer: Transition): Promise<void> {
  if (!answer.moved) await runs.recordLateCompletion(run.id, { outcome: 'succeeded' });
}

async function eventsOf(id: string) {
  const rows = await t.db
    .selectFrom('run_events')
    .select('kind')
    .where('run_id', '=', id)
    .where('kind', 'in', ['completed', 'late_completion'])
    .execute();
  const notices = await t.db
    .selectFrom('notifications')
    .select('id')
    .where('run_id', '=', id)
    .execute();
  return { kinds: rows.map((r) => r.kind), notices: notices.length };
}

describe('a completion retried after its answer was lost', () => {
  for (const shared of [false, true]) {
    it(`is this attempt's own write (${shared ? 'shared statement' : 'one run'})`, async () => {
      const run = await running();
      const by = { workerId: WORKER, attempt: run.attempt };
      // The commit lands; its answer never reaches the worker, which writes it again.
      await complete(run, shared, by);
      const retried = await complete(run, shared, by);
      expect(retried).toMatchObject({ moved: true, run: { status: 'completed' } });
      await asTheWrapper(run, retried);
      expect(await eventsOf(run.id)).toEqual({ kinds: ['completed'], notices: 1 });
    });
  }

  it('is recognized for every run of a shared statement that lost its answer', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => running()));
    const byOf = (run: Held) => ({ workerId: WORKER, attempt: run.attempt });
    await Promise.all(held.map((run) => complete(run, true, byOf(run))));
    const retried = await Promise.all(held.map((run) => complete(run, true, byOf(run))));
    for (const [i, run] of held.entries()) {
      expect(retried[i]).toMatchObject({ moved: true });
      await asTheWrapper(run, retried[i] as Transition);
      expect(await eventsOf(run.id)).toEqual({ kinds: ['completed'], notices: 1 });
    }
  });

  it('is not taken for another worker, attempt or job: those are late', async () => {
    const run = await running();
    await complete(run, true, { workerId: WORKER, attempt: run.attempt });
    const others = [
      await complete(run, true, { workerId: 'w-other', attempt: run.attempt }),
      await complete(run, false, { workerId: WORKER, attempt: run.attempt + 1 }),
      await complete({ ...run, jobId: '999999' }, true, { workerId: WORKER, attempt: run.attempt }),
    ];
    for (const answer of others)
      expect(answer).toMatchObject({ moved: false, reason: 'already_terminal' });
  });
});
