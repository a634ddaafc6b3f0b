import { percentile, queueFixture } from './queue-fixture.js';
import { progress } from './support.js';

const STARTS = Number(process.env.BENCH_STARTS ?? 200);

/**
 * Start → running latency on idle workers: each start waits until the previous run finished, so
 * a worker is always idle and woken by LISTEN/NOTIFY. `started_at` is written by the worker with
 * the same clock this process uses to time the start.
 */
export async function main(): Promise<void> {
  const f = await queueFixture('pickup');
  const worker = await f.startWorker({
    concurrency: 4,
    pollIntervalMs: 5_000, // so pickup can only come from LISTEN/NOTIFY, not polling
  });
  try {
    const latencies: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const before = Date.now();
      const run = await f.startSleep(0, String(i));
      for (;;) {
        const row = await f.runs.get(run.id);
        if (row?.status === 'completed') {
          latencies.push((row.started_at?.getTime() ?? Number.NaN) - before);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if ((i + 1) % 50 === 0) progress(`${i + 1}/${STARTS} starts`);
    }
    latencies.sort((a, b) => a - b);
    console.log(`start → running over ${STARTS} starts on idle workers:`);
    console.log(
      `p50 ${percentile(latencies, 50)} ms (target <= 20), p95 ${percentile(latencies, 95)} ms (target <= 50), max ${latencies.at(-1)} ms`,
    );
  } finally {
    await worker.stop();
    await f.close();
  }
}
