import { type Runner, run, type TaskList, type WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { graphileLogger } from '../../src/execution/graphile-logger.js';
import { migrateQueue } from '../../src/execution/queue.js';
import { SlotKeeper } from '../../src/execution/queue-slots.js';
import { until } from '../support/db.js';
import { type OutageCluster, startOutageCluster } from '../support/outage-cluster.js';
import { quietLogger } from '../support/worker.js';

/**
 * graphile-worker ends a job slot for good when it cannot record a job's end ("Failed to release
 * job …; committing seppuku"), and its pool never replaces it. Here that happens for real: three
 * jobs finish while the cluster is stopped. The keeper must see the dead slots, and once the
 * database is back release their job locks and bring the process back to full concurrency within
 * a second or so, without a restart.
 */

const CONCURRENCY = 3;
let cluster: OutageCluster;
let pgPool: pg.Pool;

beforeAll(async () => {
  cluster = await startOutageCluster();
  pgPool = createPool(cluster.url, { max: 10 });
  await migrateQueue(pgPool);
}, 120_000);

afterAll(async () => {
  await pgPool?.end();
  await cluster?.destroy();
});

async function addJob(task: string, key: string): Promise<void> {
  await pgPool.query('select graphile_worker.add_job($1::text, $2::json, job_key => $3::text)', [
    task,
    JSON.stringify({ key }),
    key,
  ]);
}

describe('the slot keeper', () => {
  it('restores the slots that died while the database was away, and their jobs run again', async () => {
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    const starts = new Map<string, number>();
    const taskList: TaskList = {
      hold: async (payload) => {
        const key = (payload as { key: string }).key;
        starts.set(key, (starts.get(key) ?? 0) + 1);
        await held;
      },
    };
    const fatal: unknown[] = [];
    const runners: Runner[] = [];
    const keeper = new SlotKeeper({
      concurrency: CONCURRENCY,
      logger: quietLogger,
      checkEveryMs: 200,
      startRunner: async (slots: number, events: WorkerEvents) => {
        const runner = await run({
          pgPool,
          concurrency: slots,
          taskList,
          events,
          noHandleSignals: true,
          pollInterval: 200,
          logger: graphileLogger(quietLogger),
        });
        runners.push(runner);
        return runner;
      },
      probe: async () => {
        await pgPool.query('select 1');
      },
      unlock: async (ids) => {
        await pgPool.query('select graphile_worker.force_unlock_workers($1::text[])', [ids]);
      },
      onSlotCreated: () => undefined,
      onLiveChange: () => undefined,
      onFatal: (error) => fatal.push(error),
    });
    await keeper.start();
    try {
      expect(keeper.live).toBe(CONCURRENCY);
      for (const key of ['a', 'b', 'c']) await addJob('hold', key);
      await until(() => starts.size === 3, { within: 10_000, what: 'three held jobs running' });

      // The handlers finish while the database is away: the queue cannot record it and each
      // slot "commits seppuku".
      await cluster.stop('fast');
      releaseHeld();
      await until(() => keeper.live === 0, { within: 10_000, what: 'the three slots to die' });
      await cluster.start();
      // Within one heartbeat interval (5 s by default) of the database's return.
      await until(() => keeper.live === CONCURRENCY, {
        within: 5_000,
        what: 'full concurrency again',
      });

      // Their jobs were released and ran again to completion; new work runs on the new slots.
      for (const key of ['d', 'e', 'f', 'g']) await addJob('hold', key);
      await until(
        async () => {
          const { rows } = await pgPool.query<{ n: number }>(
            'select count(*)::int as n from graphile_worker._private_jobs',
          );
          return rows[0]?.n === 0;
        },
        { within: 15_000, what: 'the queue to drain' },
      );
      expect([...starts.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
      expect(fatal).toEqual([]);
    } finally {
      await keeper.stop();
    }
    expect(keeper.live).toBe(0);
  }, 90_000);

  it('gives up loudly when the database answers but the queue will not start again', async () => {
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    let started = 0;
    let starts = 0;
    const fatal: unknown[] = [];
    const keeper = new SlotKeeper({
      concurrency: 1,
      logger: quietLogger,
      checkEveryMs: 100,
      startRunner: async (slots: number, events: WorkerEvents) => {
        starts++;
        // The first start is real; every later one fails for a reason that is not the database.
        if (starts > 1) throw new Error('the queue refused to start');
        return await run({
          pgPool,
          concurrency: slots,
          taskList: {
            hold: async () => {
              started++;
              await held;
            },
          },
          events,
          noHandleSignals: true,
          pollInterval: 200,
          logger: graphileLogger(quietLogger),
        });
      },
      probe: async () => {
        await pgPool.query('select 1');
      },
      unlock: async () => undefined,
      onSlotCreated: () => undefined,
      onLiveChange: () => undefined,
      onFatal: (error) => fatal.push(error),
    });
    await keeper.start();
    try {
      await addJob('hold', 'fatal-1');
      await until(() => started === 1, { within: 10_000, what: 'the held job running' });
      await cluster.stop('fast');
      releaseHeld();
      await until(() => keeper.live === 0, { within: 10_000, what: 'the slot to die' });
      await cluster.start();
      await until(() => fatal.length === 1, { within: 10_000, what: 'the keeper to give up' });
      expect(String(fatal[0])).toMatch(/the queue refused to start/);
      expect(starts).toBe(4); // the first start, then three tries to restore
    } finally {
      await keeper.stop();
    }
  }, 60_000);
});
