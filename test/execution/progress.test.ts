import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunRow } from '../../src/db/schema.js';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { type CompleteOptions, type CompleteRun, RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf, runTestWorker } from '../support/worker.js';

const REPORTS = 20;

const chatty = defineOperation({
  type: 'test.chatty',
  label: 'Chatty',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  lifecycle: { retries: 0 },
  async run(ctx) {
    for (let i = 1; i <= REPORTS; i++) await ctx.progress({ processed: i, total: REPORTS });
    return { outcome: 'succeeded' };
  },
});

/** The real service, with the order in which progress writes and completions happened. */
class ObservedRuns extends RunService {
  readonly journal: Array<{ what: 'progress' | 'progress written' | 'complete'; id: string }> = [];

  override async reportProgress(
    id: string,
    progress: { processed: number; total?: number | null },
  ): ReturnType<RunService['reportProgress']> {
    this.journal.push({ what: 'progress', id });
    const moved = await super.reportProgress(id, progress);
    this.journal.push({ what: 'progress written', id });
    return moved;
  }

  override async complete(id: string, result: CompleteRun, options?: CompleteOptions) {
    this.journal.push({ what: 'complete', id });
    return await super.complete(id, result, options);
  }
}

let t: TestDatabase;
let scope: Scope;
let runs: ObservedRuns;
let worker: Awaited<ReturnType<typeof runTestWorker>>;
const registry = registryOf(chatty);

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new ObservedRuns({ db: t.db });
  worker = await runTestWorker(t, registry, { runs });
});
afterAll(async () => {
  await worker?.close();
});

async function runChatty(tag: string): Promise<RunRow> {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type: 'test.chatty',
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { tag },
      initiatorUserId: scope.userId,
    },
  );
  return await until(
    async () => {
      const row = await runs.get(run.id);
      return row?.status === 'completed' ? row : undefined;
    },
    { within: 10_000, what: 'the chatty run to complete' },
  );
}

describe('progress reports are coalesced', () => {
  it(`${REPORTS} quick reports cost far fewer writes, and the run shows the last one`, async () => {
    const runs3 = await Promise.all(['a', 'b', 'c'].map(runChatty));
    for (const run of runs3) {
      expect(run).toMatchObject({
        outcome: 'succeeded',
        progress_processed: REPORTS,
        progress_total: REPORTS,
      });
      const writes = runs.journal.filter((e) => e.id === run.id && e.what === 'progress');
      // The first report is written at once; the rest coalesce (the last rides on the completion).
      expect(writes.length).toBeGreaterThanOrEqual(1);
      expect(writes.length).toBeLessThanOrEqual(REPORTS / 4);
    }
  });

  it('no progress write is in flight or starts once the completion is written', async () => {
    const run = await runChatty('d');
    const mine = runs.journal.filter((e) => e.id === run.id).map((e) => e.what);
    const completeAt = mine.indexOf('complete');
    expect(completeAt).toBeGreaterThan(0);
    expect(mine.slice(completeAt + 1)).toEqual([]);
    // Every write that started also finished before the completion.
    const before = mine.slice(0, completeAt);
    expect(before.filter((w) => w === 'progress').length).toBe(
      before.filter((w) => w === 'progress written').length,
    );
    const events = await t.db
      .selectFrom('run_events')
      .select('kind')
      .where('run_id', '=', run.id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.kind)).toEqual(['created', 'running', 'completed']);
  });
});
