import { EventEmitter } from 'node:events';
import { run as runQueue, type WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import { createPool } from '../src/db/pool.js';
import { graphileLogger } from '../src/execution/graphile-logger.js';
import { queueFixture } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

/**
 * Drain rate, one process, one database, same worker settings: raw graphile-worker no-op jobs/s
 * against Runwarden tracked `demo.sleep {seconds: 0}` runs/s (gate, running, complete, events).
 */
export async function main(): Promise<void> {
  const f = await queueFixture('throughput');
  try {
    progress(`queueing ${fmt(JOBS)} raw no-op jobs…`);
    await sql`select graphile_worker.add_jobs(array(
      select json_populate_record(null::graphile_worker.job_spec, json_build_object('identifier', 'noop', 'payload', '{}'::json))
      from generate_series(1, ${JOBS})))`.execute(f.db);
    const rawPool = createPool(f.url, { max: CONCURRENCY + 2 });
    const events: WorkerEvents = new EventEmitter();
    let rawDone = 0;
    const rawFinished = new Promise<void>((resolve) =>
      events.on('job:complete', () => {
        rawDone += 1;
        if (rawDone === JOBS) resolve();
      }),
    );
    const rawStart = performance.now();
    const raw = await runQueue({
      pgPool: rawPool,
      events,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      pollInterval: 1000,
      taskList: { noop: async () => undefined },
      logger: graphileLogger(f.logger),
    });
    await rawFinished;
    const rawRate = JOBS / ((performance.now() - rawStart) / 1000);
    await raw.stop();
    await rawPool.end();
    progress(`raw graphile-worker: ${fmt(rawRate)} jobs/s`);

    progress(`starting ${fmt(JOBS)} demo.sleep runs (not timed)…`);
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, JOBS - i) }, (_, k) => f.startSleep(0, String(i + k))),
      );
      ids.push(...batch.map((run) => run.id));
    }
    const ourStart = performance.now();
    const worker = await f.startWorker({ concurrency: CONCURRENCY });
    for (;;) {
      const left = await f.db
        .selectFrom('operation_runs')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '!=', 'completed')
        .executeTakeFirstOrThrow();
      if (Number(left.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ourRate = JOBS / ((performance.now() - ourStart) / 1000);
    await worker.stop();
    progress(`runwarden tracked runs: ${fmt(ourRate)} runs/s`);
    console.log(
      `raw graphile-worker no-op: ${fmt(rawRate)} jobs/s (${fmt(JOBS)} jobs, concurrency ${CONCURRENCY})`,
    );
    console.log(`runwarden demo.sleep 0: ${fmt(ourRate)} runs/s (target >= 1,000)`);
    console.log(`ratio runwarden/raw: ${(ourRate / rawRate).toFixed(2)} (target >= 0.8)`);
  } finally {
    await f.close();
  }
}
