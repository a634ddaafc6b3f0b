import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import type { RunRow } from '../../src/db/schema.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { runTestWorker } from '../support/worker.js';

// Issue 20 over real HTTP with a real queue (DESIGN §10): a tenant-restricted member never
// starts, reuses or reads a workspace-level run, and the gate applies the same rule to runs
// queued before a restriction; a disabled user's queued runs are blocked at the gate.

const h = await apiHarness();
const WORKSPACE_TYPE = 'review_pack.generate';
let base: string;
let owner: Caller;
let restricted: Caller;
let manager: Caller;
let operator: Caller;
let worker: Awaited<ReturnType<typeof runTestWorker>> | undefined;

beforeAll(async () => {
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  owner = await h.login('owner@demo.test');
  restricted = await h.login('restricted@demo.test');
  manager = await h.login('manager@demo.test');
  operator = await h.login('operator@demo.test');
});
afterAll(async () => {
  await worker?.close();
});

async function call(caller: Caller, method: string, path: string, body?: object) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...caller.headers,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.text() };
}

const start = (caller: Caller, type: string, input: object, tenantId?: string) =>
  call(caller, 'POST', '/api/workspaces/contoso/operations', { type, tenantId, input });

const runOf = (answer: { body: string }) =>
  (JSON.parse(answer.body) as { run: { id: string } }).run;

async function row(id: string): Promise<RunRow> {
  return await h.db
    .selectFrom('operation_runs')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

describe('a tenant-restricted member and workspace-level runs', () => {
  let ownersRun: string;

  it('gets 404 for a start that would reuse the owner’s active run, and for a new one alike', async () => {
    const owners = await start(owner, WORKSPACE_TYPE, { scope: 'all' });
    expect(owners.status, owners.body).toBe(202);
    ownersRun = runOf(owners).id;

    const reuse = await start(restricted, WORKSPACE_TYPE, { scope: 'all' });
    const fresh = await start(restricted, WORKSPACE_TYPE, { scope: 'changed' });
    const hiddenTenant = await start(restricted, 'inventory.sync', { scope: 'all' }, h.ids.prod);
    expect(reuse.status).toBe(404);
    expect(reuse.body).not.toContain(ownersRun);
    expect(reuse.body).toBe(fresh.body);
    expect(reuse.body).toBe(hiddenTenant.body);
    // Nothing was started or reused for them: the owner's run has its one start.
    const events = await h.db
      .selectFrom('run_events')
      .select('kind')
      .where('run_id', '=', ownersRun)
      .execute();
    expect(events.map((e) => e.kind)).toEqual(['created']);
    const theirs = await h.db
      .selectFrom('operation_runs')
      .select('id')
      .where('initiator_user_id', '=', restricted.userId as string)
      .execute();
    expect(theirs).toEqual([]);
  });

  it('cannot read, list or cancel a workspace-level run, answered like a missing one', async () => {
    const real = await call(restricted, 'GET', `/api/operations/${ownersRun}`);
    const missing = await call(restricted, 'GET', `/api/operations/${uuidv7()}`);
    expect(real.status).toBe(404);
    expect(real.body).toBe(missing.body);
    const cancel = await call(restricted, 'POST', `/api/operations/${ownersRun}/cancel`);
    const cancelMissing = await call(restricted, 'POST', `/api/operations/${uuidv7()}/cancel`);
    expect(cancel.status).toBe(404);
    expect(cancel.body).toBe(cancelMissing.body);
    expect((await row(ownersRun)).status).toBe('queued');
    const list = await call(restricted, 'GET', '/api/workspaces/contoso/operations?limit=200');
    expect(list.status).toBe(200);
    expect(list.body).not.toContain(ownersRun);
  });

  it('still starts in their own tenant', async () => {
    const own = await start(restricted, 'inventory.sync', { scope: 'all' }, h.ids.dev);
    expect(own.status, own.body).toBe(202);
  });
});

describe('the gate over the same rule', () => {
  it("blocks a workspace-level run queued before its initiator was restricted, and a disabled user's queued run", async () => {
    const byManager = await start(manager, WORKSPACE_TYPE, { scope: 'changed' });
    expect(byManager.status, byManager.body).toBe(202);
    const byOperator = await start(operator, 'inventory.sync', { scope: 'changed' }, h.ids.prod);
    expect(byOperator.status, byOperator.body).toBe(202);
    const byOwner = await start(owner, 'inventory.sync', { scope: 'changed' }, h.ids.dev);
    expect(byOwner.status, byOwner.body).toBe(202);

    const restrict = await call(owner, 'PUT', '/api/workspaces/contoso/members/manager@demo.test', {
      role: 'manager',
      tenantIds: [h.ids.dev],
    });
    expect(restrict.status, restrict.body).toBe(200);
    await createDirectory({ db: h.db }).disableUser({ email: 'operator@demo.test' });

    worker = await runTestWorker(h.t, h.registry);
    const ids = [runOf(byManager).id, runOf(byOperator).id, runOf(byOwner).id];
    const [managers, operators, owners] = await until(
      async () => {
        const rows = await Promise.all(ids.map(row));
        return rows.every((r) => r.status === 'completed') ? rows : undefined;
      },
      { within: 15_000, what: 'the queued runs to complete' },
    );
    for (const blocked of [managers, operators]) {
      expect(blocked).toMatchObject({
        outcome: 'blocked',
        attempt: 0,
        started_at: null,
        failures: [expect.objectContaining({ code: 'gate.initiator_unauthorized' })],
      });
    }
    expect(owners?.outcome).toBe('succeeded');
  });
});
