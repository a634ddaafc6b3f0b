import { beforeAll, describe, expect, it } from 'vitest';
import { directoryManaged } from '../../src/access/directory.js';
import { verifyPassword } from '../../src/access/passwords.js';
import { demoCatalog } from '../../src/catalog/index.js';
import { DEMO_LOGINS, seedDemo } from '../../src/cli/demo-seed/index.js';
import type { RunRow } from '../../src/db/schema.js';
import { type Bucket, bucketOf, RUN_CLASSES } from '../../src/domain/run-classes.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { reconcile } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

// Issue #14 point 14: the demo shows every class on first start, including a likely-stale run the
// reconciler leaves alone for hours and a handed-back run, and a new owner is not met by a wall of
// unread notifications.

const { db } = await freshDatabase();
const registry = new OperationRegistry(
  demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
);
const now = new Date();
let runs: RunRow[];

const classOf = (run: RunRow, at = now): Bucket => bucketOf(run, registry.policyOf(run.type), at);

beforeAll(async () => {
  const result = await seedDemo({ db, registry }, { password: 'demo-seed-test', live: true, now });
  expect(result.seeded).toBe(true);
  runs = await db.selectFrom('operation_runs').selectAll().execute();
});

describe('the seeded demo', () => {
  it('has a run in every class (src/domain/run-classes.ts)', () => {
    const seen = new Set(runs.map((run) => classOf(run)));
    expect([...seen].sort()).toEqual(Object.keys(RUN_CLASSES).sort());
  });

  it('its likely-stale run is one the reconciler does not close when it starts', async () => {
    const stale = runs.filter((run) => classOf(run) === 'active_stale');
    expect(stale.length).toBeGreaterThan(0);
    const report = await reconcile(
      { db, runs: new RunService({ db }), registry, logger: quietLogger, clock: () => now },
      { connectedAt: now },
    );
    expect(report.swept).toBe(true);
    const after = await db
      .selectFrom('operation_runs')
      .selectAll()
      .where(
        'id',
        'in',
        stale.map((run) => run.id),
      )
      .execute();
    expect(after.map((run) => classOf(run))).toEqual(stale.map(() => 'active_stale'));
    // Hours later (and the reconciler long connected) it is ended as any lost run is.
    const later = new Date(now.getTime() + 2 * 3600_000);
    expect(after.every((run) => classOf(run, later) === 'active_stale')).toBe(true);
  });

  it('has a run that was handed back and then finished by another worker', async () => {
    const handedBack = await db
      .selectFrom('run_events')
      .innerJoin('operation_runs', 'operation_runs.id', 'run_events.run_id')
      .select(['operation_runs.id', 'operation_runs.status', 'operation_runs.outcome'])
      .where('run_events.kind', '=', 'handed_back')
      .execute();
    expect(handedBack.length).toBeGreaterThan(0);
    expect(handedBack.some((run) => run.outcome === 'succeeded')).toBe(true);
  });

  it('greets each login with a handful of unread notifications, not three weeks of them', async () => {
    const unread = await db
      .selectFrom('notifications')
      .innerJoin('users', 'users.id', 'notifications.user_id')
      .select(['users.email', (eb) => eb.fn.countAll<string>().as('n')])
      .where('notifications.read_at', 'is', null)
      .groupBy('users.email')
      .execute();
    const total = await db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(total.n)).toBeGreaterThan(10); // the history is still there, read
    for (const row of unread) expect(Number(row.n), row.email).toBeLessThanOrEqual(5);
  });
});

describe('the demo directory', () => {
  it('is written through the directory module (audited as the demo) and is not a managed directory', async () => {
    const audited = await db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'in', ['workspace.created', 'tenant.created', 'member.created'])
      .execute();
    expect(audited.length).toBeGreaterThanOrEqual(2 + 4 + 4);
    expect(new Set(audited.map((a) => (a.details as { source?: string }).source))).toEqual(
      new Set(['demo']),
    );
    expect(await directoryManaged(db)).toBe(false);
  });

  it('every login signs in with the demo password, and a second seed with a new one resets them all', async () => {
    for (const { email } of DEMO_LOGINS) {
      const user = await db
        .selectFrom('users')
        .select('password_hash')
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      expect(await verifyPassword(user.password_hash ?? '', 'demo-seed-test')).toBe(true);
    }
    const again = await seedDemo({ db, registry }, { password: 'a newer demo password' });
    expect(again.seeded).toBe(false);
    for (const { email } of DEMO_LOGINS) {
      const user = await db
        .selectFrom('users')
        .select('password_hash')
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      expect(await verifyPassword(user.password_hash ?? '', 'a newer demo password')).toBe(true);
    }
  });
});
