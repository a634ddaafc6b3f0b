import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cancelRun } from '../../src/execution/cancel.js';
import { defineOperation } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { admissionPass } from '../../src/flow/admission-pass.js';
import { FLOW_CHANNEL } from '../../src/flow/lanes.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

// What wakes the admitters (DESIGN §17: woken by events, not a poll): a held start, and a slot
// freed by an admitted run that ends before it started (a cancel).

const limited = defineOperation({
  type: 'wake.sync',
  label: 'Wake sync',
  scope: 'tenant',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  flow: { concurrency: { perTenant: 1 } },
  run: async () => ({ outcome: 'succeeded' }),
});

let t: TestDatabase;
let scope: Scope;
let listener: pg.Client;
const heard: string[] = [];
const registry = new OperationRegistry([limited]);

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  listener.on('notification', (message) => heard.push(message.channel));
  await listener.query(`listen ${FLOW_CHANNEL}`);
});

afterAll(async () => {
  await listener?.end();
});

describe('wakeups', () => {
  it('a held start and the cancel of an admitted run that had not started both NOTIFY', async () => {
    const runs = new RunService({ db: t.db });
    const { run } = await startRun(
      { db: t.db, runs, registry },
      {
        type: 'wake.sync',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { n: 1 },
        initiatorUserId: null,
      },
    );
    await until(() => heard.length >= 1, { what: 'the start’s NOTIFY' });
    const pass = await admissionPass({
      db: t.db,
      runs,
      types: registry.list(),
      pools: [],
      readyTarget: 4,
      enqueue: async (trx, admitted) => {
        await enqueueRun(trx, {
          taskIdentifier: `runwarden:${admitted.type}`,
          runId: admitted.id,
          maxAttempts: 1,
        });
      },
    });
    expect(pass.admitted.map((r) => r.id)).toEqual([run.id]);
    const before = heard.length;
    const cancelled = await cancelRun({ db: t.db, runs }, run.id, { userId: null });
    expect(cancelled.effect).toBe('cancelled');
    await until(() => heard.length > before, { what: 'the cancel’s NOTIFY' });
  });
});
