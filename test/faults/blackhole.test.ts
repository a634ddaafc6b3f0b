import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fixtures/fault-catalog.js';
import type { BlackholeProxy } from '../support/blackhole-proxy.js';
import { startBlackholedServe } from '../support/blackholed-serve.js';
import type { CliProcess } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';
import type { Scope } from '../support/fixtures.js';

/**
 * DESIGN §16 "hung connections are faults too": `runwarden serve` reaches its PostgreSQL through a
 * proxy of this file's that blackholes it — open connections go silent, new ones are accepted and
 * never answered (a failover that drops TCP). The API answers 503 `database_unavailable` instead
 * of hanging, and once new connections pass again it recovers without a restart, although the
 * connections that went silent never answer again.
 */

/** Generous: far above the timeouts below; an answer at all before it is what is checked. */
const CLIENT_PATIENCE_MS = 20_000;

const t = await freshDatabase({ max: 3 });
let proxy: BlackholeProxy;
let serve: CliProcess;
let scope: Scope;
let token: string;
let apiUrl: string;

beforeAll(async () => {
  ({ proxy, serve, scope, token, apiUrl } = await startBlackholedServe(t, {
    RUNWARDEN_RECONCILE_INTERVAL_SECONDS: '1',
    RUNWARDEN_DB_CONNECT_TIMEOUT_MS: '1000',
    RUNWARDEN_DB_STATEMENT_TIMEOUT_MS: '2000',
  }));
}, 120_000);

/** The status of one request, or 'no answer' when none came within CLIENT_PATIENCE_MS. */
async function ask(path: string, authenticated = false): Promise<number | 'no answer'> {
  const headers: Record<string, string> = authenticated ? { authorization: `Bearer ${token}` } : {};
  try {
    const response = await fetch(`${apiUrl}${path}`, {
      headers,
      signal: AbortSignal.timeout(CLIENT_PATIENCE_MS),
    });
    const body = (await response.json()) as { error?: { code?: string } };
    if (response.status === 503 && path !== '/api/health')
      expect(body.error?.code).toBe('database_unavailable');
    return response.status;
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') return 'no answer';
    throw error;
  }
}

const read = () => `/api/workspaces/${scope.workspaceId}/operations`;

describe('a blackholed database', () => {
  it('answers 503 within the timeouts while the network is silent, and recovers without a restart', async () => {
    // Connections of the pool are open and idle: these are the ones that will go silent.
    await Promise.all([ask('/api/health'), ask(read(), true), ask('/api/health')]);
    expect(await ask('/api/health')).toBe(200);
    expect(await ask(read(), true)).toBe(200);

    const holed = Date.now();
    proxy.blackhole();
    // Every answer while the network is silent is a 503, never a hang; asked until the pool has
    // tried both its silent connections and new ones (accepted, never answered).
    const seen: Array<number | 'no answer'> = [];
    let first503: number | undefined;
    await until(
      async () => {
        const [health, authed] = await Promise.all([ask('/api/health'), ask(read(), true)]);
        seen.push(health, authed);
        first503 ??= health === 503 ? Date.now() - holed : undefined;
        return seen.length >= 8 && Date.now() - holed > 6_000;
      },
      { within: 120_000, every: 200, what: 'requests during the blackhole' },
    );
    expect(seen.filter((status) => status !== 503)).toEqual([]);

    proxy.heal();
    const healed = Date.now();
    await until(async () => (await ask('/api/health')) === 200, {
      within: 60_000,
      every: 200,
      what: 'the API to answer 200 again',
    });
    const recovered = Date.now() - healed;
    expect(await ask(read(), true)).toBe(200);
    expect(serve.child.exitCode).toBeNull();
    console.info(
      `blackhole: first 503 after ${first503} ms, ${seen.length} answers all 503; recovered ${recovered} ms after the heal`,
    );
  }, 240_000);

  it("the API process's reconciler sweeps again over new connections: a dead worker's run ends", async () => {
    // Runs after the heal above: the reconciler's connections that went silent never answer again.
    const runs = new RunService({ db: t.db });
    const { run } = await startRun(
      { db: t.db, runs, registry: new OperationRegistry(catalog) },
      {
        type: 'fault.work',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { ms: 0, tag: 'dead-worker' },
        initiatorUserId: scope.userId,
      },
    );
    await runs.markRunning(run.id, { workerId: 'w-gone' });
    await sql`update operation_runs set last_heartbeat_at = now() - interval '30 seconds'
      where id = ${run.id}`.execute(t.db);
    const ended = await until(
      async () => {
        const current = await runs.get(run.id);
        return current?.status === 'completed' ? current : undefined;
      },
      { within: 60_000, every: 200, what: "the serve process's reconciler to end the run" },
    );
    expect(ended.outcome).toBe('failed');
    expect(ended.reconciliation?.reasonCode).toBe('run.heartbeat_lost');
    expect(serve.child.exitCode).toBeNull();
  }, 90_000);
});
