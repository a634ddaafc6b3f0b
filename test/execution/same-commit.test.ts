import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoSleep } from '../../src/catalog/demo-sleep.js';
import { finishingJob } from '../../src/execution/queue.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf } from '../support/worker.js';

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
const registry = registryOf(demoSleep);

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

async function queued(tag: string) {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'demo.sleep',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { seconds: 0, tag },
      initiatorUserId: null,
    },
  );
  const job = await sql<{ id: string }>`
    select id::text from graphile_worker._private_jobs where key = ${run.id}`.execute(t.db);
  return { run, jobId: job.rows[0]?.id ?? '' };
}

const jobCount = async (jobId: string) =>
  (
    await sql<{ n: number }>`
      select count(*)::int as n from graphile_worker._private_jobs where id = ${jobId}::bigint`.execute(
      t.db,
    )
  ).rows[0]?.n;

describe("a run's completion ends its queue job in the same statement", () => {
  it('deletes the job when the run moves', async () => {
    const { run, jobId } = await queued('moves');
    expect(await jobCount(jobId)).toBe(1);
    const done = await runs.complete(run.id, { outcome: 'succeeded' }, finishingJob(jobId));
    expect(done.moved).toBe(true);
    expect(await jobCount(jobId)).toBe(0);
  });

  it('leaves the job alone when the run does not move (already terminal)', async () => {
    const { run, jobId } = await queued('stays');
    await runs.forceFail(run.id, {
      reasonCode: 'run.stale_queued',
      message: 'stale',
      thresholdSeconds: 1,
      evidence: {},
      source: 'test',
    });
    const late = await runs.complete(run.id, { outcome: 'succeeded' }, finishingJob(jobId));
    expect(late.moved).toBe(false);
    expect(await jobCount(jobId)).toBe(1);
  });
});
