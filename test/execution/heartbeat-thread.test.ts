import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DB_TIMEOUTS } from '../../src/config.js';
import { type Heartbeat, startHeartbeat } from '../../src/execution/heartbeat.js';
import { newWorkerId, registerWorker } from '../../src/execution/worker-registration.js';
import { freshDatabase, until } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

// DESIGN §16 "no silent stop": the heartbeat thread dying must not leave the worker executing runs
// that will all end `run.heartbeat_lost`. A dead thread is started again; one that keeps dying
// is fatal (the worker process exits 1 by default).

const t = await freshDatabase({ max: 2 });
const started: Heartbeat[] = [];
afterAll(async () => {
  await Promise.all(started.map((heartbeat) => heartbeat.stop()));
});

async function beating(onFatal: (error: unknown) => void) {
  const workerId = newWorkerId();
  await registerWorker(t.db, { id: workerId, concurrency: 1, heartbeatMs: 100, types: [] });
  const heartbeat = startHeartbeat(
    { databaseUrl: t.url, workerId, intervalMs: 100, timeouts: DEFAULT_DB_TIMEOUTS },
    quietLogger,
    () => undefined,
    onFatal,
  );
  started.push(heartbeat);
  const seen = async () =>
    (
      await t.db
        .selectFrom('workers')
        .select('last_seen_at')
        .where('id', '=', workerId)
        .executeTakeFirstOrThrow()
    ).last_seen_at.getTime();
  return { heartbeat, seen };
}

/** Ends the beating thread and waits for its replacement (if any comes). */
async function kill(heartbeat: Heartbeat): Promise<Worker> {
  const dying = heartbeat.thread();
  await dying.terminate();
  return dying;
}

describe('the heartbeat thread', () => {
  it('is started again when it dies, and the worker keeps being seen', async () => {
    const fatal: unknown[] = [];
    const { heartbeat, seen } = await beating((error) => fatal.push(error));
    await until(async () => (await seen()) > 0, { within: 15_000, what: 'a first beat' });
    const dead = await kill(heartbeat);
    const after = Date.now();
    await until(async () => (await seen()) > after, {
      within: 15_000,
      what: 'a beat after the thread died',
    });
    expect(heartbeat.thread()).not.toBe(dead);
    expect(fatal).toEqual([]);
  });

  it('is fatal when it keeps dying', async () => {
    const fatal: unknown[] = [];
    const { heartbeat } = await beating((error) => fatal.push(error));
    for (let death = 0; fatal.length === 0; death++) {
      expect(death).toBeLessThan(10);
      const dead = await kill(heartbeat);
      await until(() => fatal.length > 0 || heartbeat.thread() !== dead, {
        within: 15_000,
        what: 'a new thread or the fatal call',
      });
    }
    expect(fatal).toHaveLength(1);
    expect(String(fatal[0])).toContain('heartbeat thread exited');
  });
});
