import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runScheduleTick, scheduleCronItems } from '../../src/execution/schedules.js';
import { createRunwarden, defineOperation, type Runwarden } from '../../src/index.js';
import { freshDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

// DESIGN §7.8, §15, §17: the library's start takes the same priority and timing as the API, by
// the same rule; a schedule may set its runs' priority.

const sync = defineOperation({
  type: 'graph.sync',
  label: 'Graph sync',
  scope: 'tenant',
  input: z.object({ n: z.number() }),
  identity: (i) => i,
  flow: { concurrency: { perTenant: 1 } },
  run: async () => ({ outcome: 'succeeded' }),
});

let rw: Runwarden;
let scope: Scope;
let n = 0;

beforeAll(async () => {
  const t = await freshDatabase();
  rw = createRunwarden({ databaseUrl: t.url, operations: [sync], logger: quietLogger });
  scope = await seedScope(rw.db);
});
afterAll(async () => {
  await rw?.close();
});

const start = (extra: Record<string, unknown>) =>
  rw.start({
    type: 'graph.sync',
    workspaceId: scope.workspaceId,
    tenantId: scope.tenantId,
    input: { n: ++n },
    initiatorUserId: null,
    ...extra,
  });

describe("the library's start", () => {
  it('stores priority, a delay as runAt, and expiresAt', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const before = Date.now();
    const { run } = await start({ priority: 'low', delaySeconds: 90, expiresAt });
    expect(run).toMatchObject({ priority: 1, expires_at: expiresAt, held: true });
    expect(run.run_at?.getTime()).toBeGreaterThanOrEqual(before + 90_000);
  });

  it.each([
    [{ runAt: new Date(Date.now() + 60_000), delaySeconds: 5 }, /runAt or delaySeconds, not both/],
    [{ delaySeconds: 31 * 86_400 }, /at most 2592000 \(30 days\)/],
    [{ runAt: new Date(Date.now() + 31 * 86_400_000) }, /at most 30 days ahead/],
    [{ expiresAt: new Date(Date.now() - 1) }, /already past/],
    [{ runAt: new Date('nonsense') }, /not a valid instant/],
  ])('refuses %j as invalid input, starting nothing', async (extra, message) => {
    const count = async () =>
      Number(
        (
          await rw.db
            .selectFrom('operation_runs')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await expect(start(extra)).rejects.toMatchObject({ code: 'invalid_input', message });
    expect(await count()).toBe(before);
  });
});

describe("a schedule's priority", () => {
  it('its runs carry it', async () => {
    const schedule = {
      id: 'urgent-sync',
      type: 'graph.sync',
      cron: '* * * * *',
      input: { n: 1000 },
      workspace: '*',
      tenant: 'prod',
      priority: 'high' as const,
    };
    expect(scheduleCronItems([schedule], rw.registry)).toHaveLength(1);
    const tick = await runScheduleTick(
      { db: rw.db, runs: rw.runs, registry: rw.registry, logger: quietLogger },
      schedule,
    );
    expect(tick.started).toHaveLength(1);
    expect(await rw.runs.get(tick.started[0] as string)).toMatchObject({ priority: -1 });
  });

  it('an unknown priority is refused when the schedules are read', () => {
    expect(() =>
      scheduleCronItems(
        [
          {
            id: 'bad',
            type: 'graph.sync',
            cron: '* * * * *',
            input: {},
            workspace: '*',
            tenant: '*',
            priority: 'urgent' as never,
          },
        ],
        rw.registry,
      ),
    ).toThrow(/schedule bad: priority must be high, normal, low, got urgent/);
  });
});
