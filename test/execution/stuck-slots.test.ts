import { type Runner, run, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { graphileLogger } from '../../src/execution/graphile-logger.js';
import { SlotKeeper } from '../../src/execution/queue-slots.js';
import { freshDatabase, until } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

/**
 * DESIGN §16 "no silent stop", the last resort: job slots that fetch nothing but errors although
 * the database answers get a fresh runner, and after three such restarts in a row the keeper
 * gives up (the worker exits 1 for its supervisor) instead of keeping idle slots forever. Here
 * every runner's task lookup fails for real: another session holds graphile-worker's task table,
 * and the queue's pool cancels a statement after 300 ms, while `select 1` keeps answering.
 */

const t = await freshDatabase();
let pgPool: pg.Pool;
let holder: pg.Client;

beforeAll(async () => {
  pgPool = createPool(t.url, {
    max: 6,
    timeouts: { connectMs: 5_000, statementMs: 300, idleInTransactionMs: 60_000 },
  });
  holder = new pg.Client({ connectionString: t.url });
  await holder.connect();
});

afterAll(async () => {
  await holder?.end();
  await pgPool?.end();
});

describe('slots that cannot fetch although the database answers', () => {
  it('are restarted three times, then the keeper gives up with a fatal error', async () => {
    await holder.query('begin');
    await holder.query('lock table graphile_worker._private_tasks in access exclusive mode');
    let starts = 0;
    const fatal: unknown[] = [];
    const runners: Runner[] = [];
    const keeper = new SlotKeeper({
      concurrency: 2,
      logger: quietLogger,
      checkEveryMs: 100,
      stuckAfterMs: 300,
      startRunner: async (slots: number, events: WorkerEvents) => {
        starts++;
        const runner = await run({
          pgPool,
          concurrency: slots,
          taskList: { noop: async () => undefined },
          events,
          noHandleSignals: true,
          pollInterval: 100,
          logger: graphileLogger(quietLogger),
        });
        runners.push(runner);
        return runner;
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
      await until(() => fatal.length > 0, { within: 20_000, what: 'the keeper to give up' });
      expect(String(fatal[0])).toMatch(/cannot fetch jobs although the database answers/);
      expect(fatal).toHaveLength(1);
      expect(starts).toBe(4); // the first runner, then three fresh ones
    } finally {
      await keeper.stop();
      await holder.query('rollback');
      await Promise.all(runners.map((r) => r.stop().catch(() => undefined)));
    }
  }, 60_000);
});
