import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database, RunRow } from '../../src/db/schema.js';
import { DEFAULT_POLICY, type LifecyclePolicy } from '../../src/domain/lifecycle.js';
import { deriveTruth } from '../../src/domain/truth.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { SEE_ALL, seeScopes, type Visibility } from '../../src/domain/visibility.js';
import { RunReadModel } from '../../src/runs/read-model.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

const fast: LifecyclePolicy = {
  ...DEFAULT_POLICY,
  queuedStaleAfterSeconds: 60,
  heartbeatSeconds: 2,
};
const policyOf = (type: string) => (type === 'fast.sync' ? fast : DEFAULT_POLICY);
const now = new Date('2026-11-22T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

let t: TestDatabase;
let a: Scope;
let b: Scope;
let reads: RunReadModel;

async function insert(run: {
  scope: Scope;
  tenant?: 'main' | 'none';
  type?: string;
  status: 'queued' | 'running' | 'completed';
  outcome?: string;
  created: Date;
  beat?: Date | null;
  completed?: Date | null;
  reconciled?: boolean;
  reviewed?: boolean;
}) {
  const id = uuidv7();
  const reconciliation = run.reconciled
    ? JSON.stringify({
        reasonCode: 'run.stale_queued',
        detectedAt: '',
        thresholdSeconds: 60,
        lastHeartbeatAt: null,
        evidence: {},
        source: 't',
      })
    : null;
  await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash,
      initiator_user_id, created_at, started_at, last_heartbeat_at, completed_at, reconciliation, reviewed_at)
    values (${id}, ${run.scope.workspaceId}, ${run.tenant === 'none' ? null : run.scope.tenantId},
      ${run.type ?? 'fast.sync'}, ${run.status}, ${run.outcome ?? 'pending'}, ${uuidv7()}, ${run.scope.userId},
      ${run.created}, ${run.status === 'running' ? run.created : null}, ${run.beat ?? null},
      ${run.completed ?? null}, ${reconciliation}::jsonb, ${run.reviewed ? now : null})`.execute(
    t.db,
  );
  await t.db
    .insertInto('notifications')
    .values({
      id: uuidv7(),
      user_id: run.scope.userId,
      run_id: id,
      title: 't',
      body: 'b',
      link: `/admin/operations/${id}`,
      created_at: run.created,
    })
    .execute();
  return id;
}

beforeAll(async () => {
  t = await freshDatabase();
  a = await seedScope(t.db);
  b = await seedScope(t.db);
  reads = new RunReadModel({ db: t.db, policyOf });
  for (const scope of [a, b]) {
    for (const tenant of ['main', 'none'] as const) {
      for (const type of ['fast.sync', 'slow.sync']) {
        await insert({ scope, tenant, type, status: 'queued', created: ago(30) });
        await insert({ scope, tenant, type, status: 'queued', created: ago(3600) });
        await insert({ scope, tenant, type, status: 'running', created: ago(100), beat: ago(1) });
        await insert({ scope, tenant, type, status: 'running', created: ago(100), beat: ago(20) });
        for (const outcome of [
          'succeeded',
          'failed',
          'blocked',
          'partially_succeeded',
          'cancelled',
        ]) {
          await insert({
            scope,
            tenant,
            type,
            status: 'completed',
            outcome,
            created: ago(7200),
            completed: ago(3600),
          });
          await insert({
            scope,
            tenant,
            type,
            status: 'completed',
            outcome,
            created: ago(9 * 86400),
            completed: ago(8 * 86400),
          });
        }
        await insert({
          scope,
          tenant,
          type,
          status: 'completed',
          outcome: 'failed',
          created: ago(600),
          completed: ago(300),
          reconciled: true,
        });
        await insert({
          scope,
          tenant,
          type,
          status: 'completed',
          outcome: 'failed',
          created: ago(600),
          completed: ago(200),
          reviewed: true,
        });
      }
    }
  }
});

const all = () => t.db.selectFrom('operation_runs').selectAll().execute();
const truthOf = (r: RunRow) => deriveTruth(r, policyOf(r.type), now);

describe('the run read model', () => {
  it('stuck: the stale active runs of every workspace, oldest first, as each run’s truth says', async () => {
    const expected = (await all())
      .filter((r) => truthOf(r).problemClass === 'active_stale')
      .sort((x, y) => x.created_at.getTime() - y.created_at.getTime() || 0);
    const stuck = await reads.stuck(now);
    expect(new Set(stuck.map((r) => r.id))).toEqual(new Set(expected.map((r) => r.id)));
    expect(stuck.map((r) => r.created_at.getTime())).toEqual(
      expected.map((r) => r.created_at.getTime()),
    );
    const onlyA = await reads.stuck(
      now,
      seeScopes([{ workspaceId: a.workspaceId, tenantIds: null }]),
    );
    expect(onlyA.every((r) => r.workspace_id === a.workspaceId)).toBe(true);
    expect(onlyA.length).toBe(expected.length / 2);
  });

  it('failures: reconciled and follow-up runs finished within the days asked, reviewed ones on request', async () => {
    const problems = (await all()).filter(
      (r) =>
        ['reconciled', 'terminal_follow_up'].includes(truthOf(r).problemClass) &&
        r.completed_at! >= ago(7 * 86400),
    );
    const included = await reads.failures({ days: 7, reviewed: 'include', limit: 200 }, now);
    expect(new Set(included.map((r) => r.id))).toEqual(new Set(problems.map((r) => r.id)));
    const times = included.map((r) => r.completed_at!.getTime());
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const excluded = await reads.failures({ days: 7, reviewed: 'exclude', limit: 200 }, now);
    expect(excluded.length).toBe(problems.filter((r) => !r.reviewed_at).length);
  });

  it('metrics gauges: active and last-24-hour runs by type, status and truth, as deriveTruth says', async () => {
    const expected = new Map<string, number>();
    for (const r of await all()) {
      if (r.status === 'completed' && r.completed_at! < ago(86400)) continue;
      const key = `${r.type}|${r.status}|${truthOf(r).problemClass}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const gauges = await reads.runGauges(now);
    expect(
      new Map(
        gauges.map((g) => [`${g.labels.type}|${g.labels.status}|${g.labels.truth}`, g.count]),
      ),
    ).toEqual(expected);
    expect(await reads.reconciliationGauges(now)).toEqual([
      { reason: 'run.stale_queued', count: 8 },
    ]);
  });

  it('applies a visibility: a tenant restriction never shows workspace runs, an empty one shows nothing', async () => {
    const filter = (visibility: Visibility) => ({
      visibility,
      from: ago(30 * 86400),
      bucket: 'all' as const,
      limit: 500,
    });
    const everything = await reads.list(filter(SEE_ALL), now);
    expect(everything.rows.length).toBe(
      (await all()).filter((r) => r.created_at >= ago(30 * 86400)).length,
    );
    const tenant = await reads.list(
      filter(seeScopes([{ workspaceId: a.workspaceId, tenantIds: [a.tenantId] }])),
      now,
    );
    expect(tenant.rows.length).toBeGreaterThan(0);
    expect(tenant.rows.every((r) => r.tenant_id === a.tenantId)).toBe(true);
    const none = await reads.list(
      filter(seeScopes([{ workspaceId: a.workspaceId, tenantIds: [] }])),
      now,
    );
    expect(none.rows).toEqual([]);
    const counts = await reads.counts(
      filter(seeScopes([{ workspaceId: a.workspaceId, tenantIds: [] }])),
      now,
    );
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  it('notifications: only about runs the user may still see', async () => {
    const whole = await reads.notifications(
      a.userId,
      seeScopes([{ workspaceId: a.workspaceId, tenantIds: null }]),
      100,
    );
    const restricted = await reads.notifications(
      a.userId,
      seeScopes([{ workspaceId: a.workspaceId, tenantIds: [a.tenantId] }]),
      100,
    );
    // 2 tenants' worth (one of them workspace-level) × 2 types × 16 runs, one notification each.
    expect([whole.items.length, whole.unreadCount]).toEqual([64, 64]);
    expect([restricted.items.length, restricted.unreadCount]).toEqual([32, 32]);
    const hidden = await t.db
      .selectFrom('notifications')
      .innerJoin('operation_runs', 'operation_runs.id', 'notifications.run_id')
      .select('notifications.id')
      .where('operation_runs.tenant_id', 'is', null)
      .where('notifications.user_id', '=', a.userId)
      .executeTakeFirstOrThrow();
    const restrictedScope = seeScopes([{ workspaceId: a.workspaceId, tenantIds: [a.tenantId] }]);
    expect(
      await reads.markNotificationRead(a.userId, restrictedScope, hidden.id, now),
    ).toBeUndefined();
    const wholeScope = seeScopes([{ workspaceId: a.workspaceId, tenantIds: null }]);
    expect(await reads.markNotificationRead(a.userId, wholeScope, hidden.id, now)).toEqual({
      id: hidden.id,
      readAt: now,
    });
    const again = await reads.markNotificationRead(a.userId, wholeScope, hidden.id, ago(5));
    expect(again?.readAt).toEqual(now);
    expect(await reads.markNotificationRead(b.userId, wholeScope, hidden.id, now)).toBeUndefined();
  });

  it('summary: judged with the types seen active before, again when a new type is among its runs', async () => {
    const c = await seedScope(t.db);
    const statements: string[] = [];
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url, max: 2 }) }),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query.sql);
      },
    });
    try {
      const model = new RunReadModel({ db, policyOf });
      const scope = seeScopes([{ workspaceId: c.workspaceId, tenantIds: null }]);
      const summary = async () => {
        statements.length = 0;
        const tiles = await model.summary(scope, now);
        return {
          fresh: tiles.activeFresh,
          stale: tiles.activeStale,
          statements: statements.length,
        };
      };
      await insert({ scope: c, type: 'fast.sync', status: 'queued', created: ago(30) });
      // First: the active types are read (judge), then the active and the terminal tiles counted.
      expect(await summary()).toEqual({ fresh: 1, stale: 0, statements: 3 });
      // Known types now: the active tiles in one statement, the terminal tiles in another.
      expect(await summary()).toEqual({ fresh: 1, stale: 0, statements: 2 });
      // A type none of the earlier judges saw, stale by its own (default) policy: counted stale.
      await insert({ scope: c, type: 'late.sync', status: 'queued', created: ago(3600) });
      expect(await summary()).toEqual({ fresh: 1, stale: 1, statements: 4 });
      expect(await summary()).toEqual({ fresh: 1, stale: 1, statements: 2 });
      const staleList = await model.list(
        { visibility: scope, bucket: 'active_stale', from: ago(30 * 86400), limit: 50 },
        now,
      );
      expect(staleList.rows.map((r) => r.type)).toEqual(['late.sync']);
    } finally {
      await db.destroy();
    }
  });
});
