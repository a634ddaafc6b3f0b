import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation } from '../../src/execution/operation.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { runTestWorker } from '../support/worker.js';

// A run's counts are its final attempt's: a 200-row export that failed twice after 25 rows each
// shows rows 200, not 250. Each earlier attempt's counts stay on its timeline entry.

const ROWS = 200;
const BATCH = 25;

const exportRows = defineOperation({
  type: 'test.export',
  label: 'Export',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  lifecycle: { retries: 2 },
  async run(ctx) {
    for (let done = 0; done < ROWS; done += BATCH) {
      await ctx.count('rows', BATCH);
      if (ctx.attempt < 3)
        throw new Error(`the export connection dropped (attempt ${ctx.attempt})`);
    }
    return { outcome: 'succeeded', counts: { files: 1 } };
  },
});

const h = await apiHarness({ operations: [exportRows] });
let owner: Caller;
let worker: Awaited<ReturnType<typeof runTestWorker>>;

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  worker = await runTestWorker(h.t, h.registry);
});
afterAll(async () => {
  await worker?.close();
});

interface Detail {
  status: string;
  outcome: string;
  attempt: number;
  summaryCounts: Record<string, number>;
  timeline: Array<{
    kind: string;
    title: string;
    detail: string | null;
    payload: Record<string, unknown>;
  }>;
}

describe('counts across retries', () => {
  it("a run that failed twice and then succeeded shows its last attempt's counts", async () => {
    const started = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/operations',
      payload: { type: 'test.export', tenant: 'contoso-prod', input: { tag: 'retry' } },
    });
    expect(started.statusCode, started.body).toBe(202);
    const id = started.json().run.id as string;

    const detail = async () =>
      (await h.request(owner, { method: 'GET', url: `/api/operations/${id}` })).json() as Detail;
    const done = await until(
      async () => {
        // The queue waits seconds before a retry; bring a waiting retry forward instead of waiting.
        await sql`update graphile_worker._private_jobs set run_at = now()
          where locked_at is null and run_at > now()`.execute(h.db);
        const run = await detail();
        return run.status === 'completed' ? run : undefined;
      },
      { within: 20_000, what: 'the export to finish' },
    );

    expect(done).toMatchObject({ outcome: 'succeeded', attempt: 3 });
    expect(done.summaryCounts).toEqual({ rows: ROWS, files: 1 });
    const row = await h.db
      .selectFrom('operation_runs')
      .select('summary_counts')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.summary_counts).toEqual({ rows: ROWS, files: 1 });

    // The list answers as the page does.
    const list = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations?type=test.export',
    });
    expect(list.json().items).toEqual([
      expect.objectContaining({ id, summaryCounts: { rows: ROWS, files: 1 } }),
    ]);

    // Each failed attempt keeps what it counted, where a person reads it.
    const failed = done.timeline.filter((e) => e.kind === 'attempt_failed');
    expect(failed.map((e) => e.payload.counts)).toEqual([{ rows: BATCH }, { rows: BATCH }]);
    expect(failed.map((e) => e.title)).toEqual(['Attempt 1 failed', 'Attempt 2 failed']);
    for (const event of failed) {
      expect(event.detail).toContain(`This attempt counted rows ${BATCH}.`);
    }
    expect(done.timeline.map((e) => e.kind)).toEqual([
      'created',
      'running',
      'attempt_failed',
      'running',
      'attempt_failed',
      'running',
      'completed',
    ]);
  }, 40_000);
});
