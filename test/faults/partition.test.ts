import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/fault-catalog.js';
import { type BlackholeProxy, startBlackholeProxy } from '../support/blackhole-proxy.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';
import { seedScope } from '../support/fixtures.js';

/**
 * DESIGN §16 "an outage is not a death", for a partition that heals before any timeout: a
 * `runwarden worker` and a `runwarden serve` (whose reconciler loop judges) each reach PostgreSQL
 * through a proxy of this file's that holds every byte for longer than the heartbeat-loss window
 * (`fault.work` beats every 2 s: 6 s) and then delivers it — the judge's first, the worker's a
 * moment later. The sweep that waited through the partition must not judge the heartbeats that
 * could not land meanwhile: the runs end `succeeded`, none `run.heartbeat_lost`.
 */

const LOSS_WINDOW_MS = 6_000;
const t = await freshDatabase();
const registry = new OperationRegistry(catalog);
const runs = new RunService({ db: t.db });
let proxy: BlackholeProxy;
let judgeProxy: BlackholeProxy;
let worker: CliProcess;
let judge: CliProcess;

beforeAll(async () => {
  const target = new URL(t.url);
  const to = { host: target.hostname, port: Number(target.port) };
  [proxy, judgeProxy] = await Promise.all([startBlackholeProxy(to), startBlackholeProxy(to)]);
  const env = {
    RUNWARDEN_CONFIG: 'test/fixtures/fault-catalog.ts',
    RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
    // Longer than the partition: the sweeps wait for a connection instead of failing at once.
    RUNWARDEN_DB_CONNECT_TIMEOUT_MS: '20000',
  };
  worker = spawnCli(['worker', '--concurrency', '2'], {
    ...env,
    DATABASE_URL: proxy.through(t.url),
  });
  judge = spawnCli(['serve'], {
    ...env,
    DATABASE_URL: judgeProxy.through(t.url),
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
  });
  await Promise.all([
    worker.waitFor(/reconciler connected/, 90_000),
    judge.waitFor(/reconciler connected/, 90_000),
  ]);
}, 120_000);

afterAll(async () => {
  for (const p of [proxy, judgeProxy]) p?.resume();
  for (const cli of [worker, judge]) {
    if (cli && cli.child.exitCode === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }
  await Promise.all([proxy?.close(), judgeProxy?.close()]);
});

describe('a partition that heals', () => {
  it('fails no run whose heartbeats waited with the sweep', async () => {
    const scope = await seedScope(t.db);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { run } = await startRun(
        { db: t.db, runs, registry },
        {
          type: 'fault.work',
          workspaceId: scope.workspaceId,
          tenantId: scope.tenantId,
          input: { ms: 25_000, tag: `partition-${i}` },
          initiatorUserId: scope.userId,
        },
      );
      ids.push(run.id);
    }
    const connected = Date.now();
    await until(
      async () => {
        const rows = await t.db
          .selectFrom('operation_runs')
          .select('status')
          .where('id', 'in', ids)
          .execute();
        return rows.every((r) => r.status === 'running');
      },
      { within: 30_000, what: 'the runs to be running' },
    );
    // The reconciler judges heartbeats only one loss window after it connected: the partition
    // must come after that, or its first grace would hide what this test looks for.
    await until(() => Date.now() - connected > LOSS_WINDOW_MS + 1_000, {
      within: 30_000,
      what: "the reconciler's first loss window to pass",
    });

    proxy.pause();
    judgeProxy.pause();
    const paused = Date.now();
    // Longer than the loss window plus a beat, shorter than the reconciler's timeouts (20 s to
    // connect, 30 s statements): its sweep waits, nothing fails.
    await until(() => Date.now() - paused > LOSS_WINDOW_MS + 2_500, {
      within: 30_000,
      what: 'the partition to last past the loss window',
    });
    judgeProxy.resume();
    // The judge's network heals first; the worker's beats can land only a moment later.
    const judgeBack = Date.now();
    await until(() => Date.now() - judgeBack > 1_500, { what: "the worker's network to heal" });
    proxy.resume();

    const ended = await until(
      async () => {
        const rows = await t.db
          .selectFrom('operation_runs')
          .select(['id', 'status', 'outcome', 'reconciliation'])
          .where('id', 'in', ids)
          .execute();
        return rows.every((r) => r.status === 'completed') && rows;
      },
      { within: 90_000, every: 250, what: 'the runs to end' },
    );
    expect(ended.map((r) => [r.outcome, r.reconciliation])).toEqual(
      ids.map(() => ['succeeded', null]),
    );
  }, 180_000);
});
