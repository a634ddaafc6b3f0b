import { Writable } from 'node:stream';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf, runTestWorker } from '../support/worker.js';

// A worker logs its runs like the API logs requests: each run's lines at debug, one summary at
// info (a line per run was a third of a short run's CPU in a worker process).
const input = z.object({ n: z.number(), fail: z.boolean() });
const mixed = defineOperation({
  type: 'test.mixed',
  label: 'Mixed',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle: { retries: 0 },
  async run(_ctx, { fail }) {
    if (fail) throw new Error('this one fails');
    return { outcome: 'succeeded' };
  },
});
const registry = registryOf(mixed);

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

function capture(level: string) {
  const entries: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      entries.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { entries, logger: pino({ level }, sink) };
}

let n = 0;
async function runMany(count: number, failing: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    n += 1;
    const { run } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'test.mixed',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { n, fail: i < failing },
        initiatorUserId: null,
      },
    );
    ids.push(run.id);
  }
  await until(
    async () => {
      const left = await t.db
        .selectFrom('operation_runs')
        .select('id')
        .where('id', 'in', ids)
        .where('status', '<>', 'completed')
        .execute();
      return left.length === 0;
    },
    { within: 15_000, what: 'the runs to finish' },
  );
}

const summaries = (entries: Array<Record<string, unknown>>) =>
  entries.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('worker: '));

describe('worker run log', () => {
  it('at info: no line per run, one summary with the outcomes; failures keep their line', async () => {
    const { entries, logger } = capture('info');
    const worker = await runTestWorker(t, registry, { logger, runLogSummaryMs: 200 });
    try {
      await runMany(5, 1);
      await until(() => summaries(entries).reduce((sum, e) => sum + Number(e.runs), 0) === 5, {
        within: 5_000,
        what: 'summary lines counting the five runs',
      });
    } finally {
      await worker.close();
    }
    const counted = summaries(entries).map((e) => e.outcomes as Record<string, number>);
    expect(counted.reduce((sum, o) => sum + (o.succeeded ?? 0), 0)).toBe(4);
    expect(counted.reduce((sum, o) => sum + (o.failed ?? 0), 0)).toBe(1);
    for (const summary of summaries(entries)) {
      expect(summary.level).toBe(30);
      expect(summary.msg).toMatch(
        /^worker: \d+ runs? finished in the last 200 ms \(.*\), handler p95 \d+ ms$/,
      );
    }
    const messages = entries.map((e) => e.msg);
    expect(messages).not.toContain('run started');
    expect(messages).not.toContain('run completed');
    expect(messages).toContain('run failed on its last attempt');
  });

  it('at debug: each run has its started and completed lines', async () => {
    const { entries, logger } = capture('debug');
    const worker = await runTestWorker(t, registry, { logger, runLogSummaryMs: 60_000 });
    try {
      await runMany(2, 0);
    } finally {
      await worker.close();
    }
    const lines = entries.filter((e) => e.msg === 'run started' || e.msg === 'run completed');
    expect(lines.map((e) => e.msg).sort()).toEqual([
      'run completed',
      'run completed',
      'run started',
      'run started',
    ]);
    expect(lines.every((e) => e.level === 20 && typeof e.runId === 'string')).toBe(true);
    // Stopping writes what the minute had not summarized yet.
    const last = summaries(entries).at(-1);
    expect(last?.msg).toMatch(/^worker: 2 runs finished since the last summary \(2 succeeded\)/);
  });
});
