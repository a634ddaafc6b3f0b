import { z } from 'zod';
import { defineOperation } from '../src/execution/operation.js';
import { percentile, queueFixture } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
/** DESIGN §18: 1,000 lines from one handler cost about what 1,000 progress reports cost. */
const CALLS = 1_000;

const lifecycle = {
  retries: 0,
  timeoutSeconds: 600,
  runningStaleAfterSeconds: 700,
  queuedStaleAfterSeconds: 900,
};
const input = z.object({ tag: z.string() });

const logging = defineOperation({
  type: 'bench.log_lines',
  label: 'Bench: log lines',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle,
  async run(ctx) {
    for (let i = 1; i <= CALLS; i++) ctx.log.info(`step ${i} of ${CALLS}`, { i });
    return { outcome: 'succeeded' };
  },
});

const reporting = defineOperation({
  type: 'bench.progress_reports',
  label: 'Bench: progress reports',
  scope: 'tenant',
  input,
  identity: (i) => i,
  lifecycle,
  async run(ctx) {
    for (let i = 1; i <= CALLS; i++) await ctx.progress({ processed: i, total: CALLS });
    return { outcome: 'succeeded' };
  },
});

/**
 * A handler's 1,000 `ctx.log` lines against its 1,000 `ctx.progress` reports and a handler that
 * does nothing (`demo.sleep 0`): each run started on an idle worker and timed from its start to
 * its end as the worker wrote them, one run at a time, the three kinds interleaved.
 */
export async function main(): Promise<void> {
  const f = await queueFixture('logs', { operations: [logging, reporting] });
  const worker = await f.startWorker({ concurrency: 1 });
  const kinds = {
    'demo.sleep 0 (nothing)': (tag: string) => f.startSleep(0, tag),
    [`${CALLS} ctx.log lines`]: (tag: string) => f.start('bench.log_lines', { tag }),
    [`${CALLS} ctx.progress reports`]: (tag: string) => f.start('bench.progress_reports', { tag }),
  };
  const times = new Map<string, number[]>(Object.keys(kinds).map((k) => [k, []]));
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const [label, start] of Object.entries(kinds)) {
        const run = await start(`${label}-${i}`);
        for (;;) {
          const row = await f.runs.get(run.id);
          if (row?.status === 'completed') {
            if (row.outcome !== 'succeeded') throw new Error(`${label}: ${row.outcome}`);
            const ms = (row.completed_at?.getTime() ?? 0) - (row.started_at?.getTime() ?? 0);
            times.get(label)?.push(ms);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
      if ((i + 1) % 10 === 0) progress(`${i + 1}/${RUNS} rounds`);
    }
    const lines = await f.db
      .selectFrom('run_log_lines')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const p50 = new Map<string, number>();
    console.log(`started → completed, ${RUNS} runs of each, one at a time:`);
    for (const [label, ms] of times) {
      ms.sort((a, b) => a - b);
      p50.set(label, percentile(ms, 50));
      console.log(
        `  ${label}: p50 ${fmt(percentile(ms, 50))} ms, p95 ${fmt(percentile(ms, 95))} ms, max ${fmt(ms.at(-1) ?? 0)} ms`,
      );
    }
    console.log(`  ${Number(lines.n).toLocaleString('en')} log lines stored`);
    const [, logs, reports] = [...p50.values()];
    console.log(
      `logs: ${CALLS} lines p50 ${fmt(logs ?? 0)} ms = ${((logs ?? 0) / (reports ?? 1)).toFixed(2)}× ${CALLS} progress reports (${fmt(reports ?? 0)} ms)`,
    );
  } finally {
    await worker.stop();
    await f.close();
  }
}
