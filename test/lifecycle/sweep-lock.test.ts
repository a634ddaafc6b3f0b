import { spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/execution/start.js';
import { RECONCILE_LOCK_KEY, reconcile } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { frozenProbe } from '../support/frozen-probe.js';
import { numberedSync, queuedRuns } from '../support/operations.js';
import { quietLogger, registryOf } from '../support/worker.js';

// The sweep lock lives no longer than its holder keeps it alive: a sweeper frozen mid-sweep
// (SIGSTOP, a real process) must not keep other processes' sweeps from ending a dead worker's
// runs within the crash bound (test/lifecycle/crash.test.ts: 10 s there too).
const ROOT = path.resolve(import.meta.dirname, '../..');
const registry = registryOf(numberedSync);
let t: TestDatabase;
let scope: Scope;
let runs: RunService;
const stopped: Array<ReturnType<typeof spawn>> = [];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});
afterEach(async () => {
  for (const child of stopped.splice(0)) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

const queued = queuedRuns(() => ({ t, scope, runs, registry }));

/** A run whose worker died 30 s ago (heartbeat lost after 3 × 5 s): the row is back-dated. */
async function deadWorkersRun(id: string) {
  await runs.markRunning(id, { workerId: 'w-dead' });
  await sql`update operation_runs set last_heartbeat_at = now() - interval '30 seconds'
    where id = ${id}`.execute(t.db);
}

/** A sweeper in its own process, frozen while it holds the sweep lock. */
async function frozenSweeper() {
  const { run } = await startRun(
    { db: t.db, runs, registry: registryOf(frozenProbe) },
    {
      type: frozenProbe.type,
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input: { n: 1 },
      initiatorUserId: scope.userId,
    },
  );
  await deadWorkersRun(run.id);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/support/frozen-sweeper.ts'), t.url],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  stopped.push(child);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await until(() => out.includes('frozen'), { within: 30_000, what: 'the sweeper to freeze' });
}

async function lockHeld(): Promise<boolean> {
  const rows = await sql<{ n: number }>`select count(*)::int as n from pg_locks
    where locktype = 'advisory' and granted
      and ((classid::bigint << 32) | objid::bigint) = ${RECONCILE_LOCK_KEY}`.execute(t.db);
  return (rows.rows[0]?.n ?? 0) > 0;
}

describe('the sweep lock', () => {
  it("of a frozen sweeper does not keep a dead worker's runs from their truth", async () => {
    await frozenSweeper();
    expect(await lockHeld()).toBe(true); // the frozen process took it
    const run = await queued();
    await deadWorkersRun(run.id);
    const deps = { db: t.db, runs, registry, logger: quietLogger };
    const ended = await until(
      async () => {
        await reconcile(deps);
        const row = await runs.get(run.id);
        return row?.status === 'completed' ? row : undefined;
      },
      { within: 10_000, every: 250, what: 'another sweep to end the run' },
    );
    expect(ended).toMatchObject({
      outcome: 'failed',
      reconciliation: { reasonCode: 'run.heartbeat_lost' },
    });
  });

  it('still lets one sweep at a time through, and a dry run reports without changing', async () => {
    const run = await queued();
    await deadWorkersRun(run.id);
    const deps = { db: t.db, runs, registry, logger: quietLogger };
    const dry = await reconcile(deps, { dryRun: true });
    expect(dry.swept).toBe(true);
    expect(dry.actions).toContainEqual(
      expect.objectContaining({ runId: run.id, result: 'would_fail' }),
    );
    expect((await runs.get(run.id))?.status).toBe('running');
    const [a, b] = await Promise.all([reconcile(deps), reconcile(deps)]);
    expect([a.swept, b.swept]).toContain(true);
    expect((await runs.get(run.id))?.status).toBe('completed');
    expect(await lockHeld()).toBe(false); // released with its sweep
  });
});
