import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRow } from '../../src/db/schema.js';
import { LIST_BUCKETS } from '../../src/domain/buckets.js';
import { DEFAULT_POLICY, type LifecyclePolicy } from '../../src/domain/lifecycle.js';
import type { RunOutcome, RunStatus } from '../../src/domain/run.js';
import {
  type Bucket,
  bucketOf,
  bucketSql,
  listBucketSql,
  problemSql,
  RUN_CLASSES,
  sqlJudge,
} from '../../src/domain/run-classes.js';
import { deriveTruth } from '../../src/domain/truth.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { canSee, SEE_ALL, seeScopes, visibleSql } from '../../src/domain/visibility.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

// Two types with different windows (and one this process does not know: the defaults).
const POLICIES: Record<string, LifecyclePolicy> = {
  'slow.sync': { ...DEFAULT_POLICY, queuedStaleAfterSeconds: 900, heartbeatSeconds: 5 },
  'fast.sync': {
    ...DEFAULT_POLICY,
    queuedStaleAfterSeconds: 60,
    heartbeatSeconds: 2,
    runningStaleAfterSeconds: 300,
  },
};
const policyOf = (type: string) => POLICIES[type] ?? DEFAULT_POLICY;
const TYPES = ['slow.sync', 'fast.sync', 'other.type'];

const now = new Date('2026-11-22T12:00:00.000Z');
/** An instant `seconds` before now, plus `micros` microseconds (stored exactly, read as ms). */
type At = { seconds: number; micros?: number } | null;
const ago = (seconds: number, micros = 0): At => ({ seconds, micros });

let t: TestDatabase;
let scope: Scope;
let otherTenant: string;

interface Kind {
  type: string;
  status: RunStatus;
  outcome: RunOutcome;
  reconciled: boolean;
  tenant: 'main' | 'other' | 'none';
  created: At;
  started: At;
  beat: At;
  /** Held by flow control (DESIGN §17), and when it was admitted. */
  held?: boolean;
  eligible?: At;
}

/** Ages around every window edge of each type: just inside, exactly at, just past, far, future. */
function edges(seconds: number): At[] {
  return [
    ago(seconds - 0.001),
    ago(seconds),
    ago(seconds, -500), // half a millisecond inside: fresh in both
    ago(seconds, 500), // half a millisecond past: stale in both
    ago(seconds + 0.001),
    ago(seconds * 10),
    ago(-60), // clock skew: in the future
  ];
}

function kinds(): Kind[] {
  const out: Kind[] = [];
  const tenants = ['main', 'other', 'none'] as const;
  let i = 0;
  const tenant = () => tenants[i++ % 3] as Kind['tenant'];
  for (const type of TYPES) {
    const p = policyOf(type);
    for (const reconciled of [false, true]) {
      const base = { type, reconciled, started: null, beat: null };
      for (const created of edges(p.queuedStaleAfterSeconds)) {
        for (const beat of [null, ago(1), ...edges(p.queuedStaleAfterSeconds)]) {
          out.push({
            ...base,
            status: 'queued',
            outcome: 'pending',
            tenant: tenant(),
            created,
            beat,
          });
        }
      }
      // Held by a limit, a pause or its runAt, however old: never stale. Admitted: its queued
      // window counts from when it became eligible, not from when it was created.
      for (const created of [
        ago(1),
        ago(p.queuedStaleAfterSeconds + 1),
        ago(p.queuedStaleAfterSeconds * 100),
      ]) {
        out.push({
          ...base,
          status: 'queued',
          outcome: 'pending',
          tenant: tenant(),
          created,
          held: true,
        });
      }
      for (const eligible of edges(p.queuedStaleAfterSeconds)) {
        out.push({
          ...base,
          status: 'queued',
          outcome: 'pending',
          tenant: tenant(),
          created: ago(p.queuedStaleAfterSeconds * 100),
          eligible,
        });
      }
      for (const beat of [null, ...edges(3 * p.heartbeatSeconds)]) {
        for (const started of [null, ago(1), ...edges(p.runningStaleAfterSeconds)]) {
          const created = ago(p.runningStaleAfterSeconds * 2);
          out.push({
            ...base,
            status: 'running',
            outcome: 'pending',
            tenant: tenant(),
            created,
            started,
            beat,
          });
        }
      }
      for (const outcome of [
        'succeeded',
        'partially_succeeded',
        'failed',
        'blocked',
        'cancelled',
      ] as const) {
        for (const created of [ago(10), ago(-60), ago(40 * 24 * 3600)]) {
          out.push({ ...base, status: 'completed', outcome, tenant: tenant(), created });
        }
      }
    }
  }
  return out;
}

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  otherTenant = scope.inactiveTenantId;
  const stamp = (at: At) =>
    at === null
      ? sql`null`
      : sql`${new Date(now.getTime() - at.seconds * 1000)}::timestamptz + make_interval(secs => ${(at.micros ?? 0) / 1e6})`;
  for (const k of kinds()) {
    const tenantId =
      k.tenant === 'main' ? scope.tenantId : k.tenant === 'other' ? otherTenant : null;
    const reconciliation = k.reconciled
      ? JSON.stringify({
          reasonCode: 'run.heartbeat_lost',
          detectedAt: '',
          thresholdSeconds: 15,
          lastHeartbeatAt: null,
          evidence: {},
          source: 't',
        })
      : null;
    await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash,
        created_at, started_at, last_heartbeat_at, completed_at, reconciliation, held, eligible_at)
      values (${uuidv7()}, ${scope.workspaceId}, ${tenantId}, ${k.type}, ${k.status}, ${k.outcome},
        ${uuidv7()}, ${stamp(k.created)}, ${stamp(k.started)}, ${stamp(k.beat)},
        ${k.status === 'completed' ? now : null}, ${reconciliation}::jsonb, ${k.held ?? false},
        ${stamp(k.eligible ?? null)})`.execute(t.db);
  }
});

async function rows(): Promise<RunRow[]> {
  return await t.db.selectFrom('operation_runs').selectAll().execute();
}
const judge = () =>
  sqlJudge(
    now,
    TYPES.map((type) => [type, policyOf(type)] as const),
  );

describe('run classes: the JS and SQL predicates agree on every kind of row', () => {
  it('seeds every status × outcome × reconciled × age around the window edges', async () => {
    const all = await rows();
    expect(all.length).toBeGreaterThan(500);
    const buckets = new Set(all.map((r) => bucketOf(r, policyOf(r.type), now)));
    expect([...buckets].sort()).toEqual(
      [
        'active',
        'active_stale',
        'cancelled',
        'reconciled',
        'succeeded',
        'terminal_follow_up',
      ].sort(),
    );
  });

  it('each class: the rows its SQL selects are the rows its JS predicate accepts', async () => {
    const all = await rows();
    for (const [name, runClass] of Object.entries(RUN_CLASSES)) {
      const selected = await t.db
        .selectFrom('operation_runs')
        .select('id')
        .where(runClass.sql(judge()))
        .execute();
      const expected = all.filter((r) => runClass.test(r, policyOf(r.type), now)).map((r) => r.id);
      expect({ name, ids: selected.map((r) => r.id).sort() }).toEqual({
        name,
        ids: expected.sort(),
      });
    }
  });

  it('bucketOf, bucketSql and deriveTruth name the same bucket for every row', async () => {
    const judged = await t.db
      .selectFrom('operation_runs')
      .selectAll()
      .select(bucketSql(judge()).as('sql_bucket'))
      .execute();
    for (const row of judged) {
      const js: Bucket = bucketOf(row, policyOf(row.type), now);
      expect({ id: row.id, bucket: row.sql_bucket }).toEqual({ id: row.id, bucket: js });
      expect(deriveTruth(row, policyOf(row.type), now).bucket).toBe(js);
    }
  });

  it('the list buckets and the system plane’s problems select what their classes do', async () => {
    const all = await rows();
    const ids = async (where: ReturnType<typeof problemSql>) =>
      (await t.db.selectFrom('operation_runs').select('id').where(where).execute())
        .map((r) => r.id)
        .sort();
    for (const bucket of LIST_BUCKETS) {
      const expected = all
        .filter((r) => bucket === 'all' || bucketOf(r, policyOf(r.type), now) === bucket)
        .map((r) => r.id)
        .sort();
      expect(await ids(listBucketSql(bucket, judge()))).toEqual(expected);
    }
    const problems = all
      .filter((r) =>
        ['reconciled', 'terminal_follow_up'].includes(bucketOf(r, policyOf(r.type), now)),
      )
      .map((r) => r.id)
      .sort();
    expect(await ids(problemSql(judge()))).toEqual(problems);
  });

  it('a held run, however old, is active in both forms; an admitted one is judged from eligible_at', async () => {
    const judged = await t.db
      .selectFrom('operation_runs')
      .selectAll()
      .select(bucketSql(judge()).as('sql_bucket'))
      .where('status', '=', 'queued')
      .where((eb) => eb.or([eb('held', '=', true), eb('eligible_at', 'is not', null)]))
      .execute();
    const held = judged.filter((r) => r.held);
    expect(held.length).toBeGreaterThan(0);
    for (const row of held) {
      expect([row.sql_bucket, bucketOf(row, policyOf(row.type), now)]).toEqual([
        'active',
        'active',
      ]);
      expect(deriveTruth(row, policyOf(row.type), now).badges.map((b) => b.label)).not.toContain(
        'Likely stale',
      );
    }
    // Every admitted row was created long ago: only its eligible_at decides.
    const admitted = judged.filter((r) => !r.held);
    const stale = admitted.filter((r) => r.sql_bucket === 'active_stale');
    expect(stale.length).toBeGreaterThan(0);
    expect(stale.length).toBeLessThan(admitted.length);
    for (const row of admitted) {
      const window = policyOf(row.type).queuedStaleAfterSeconds * 1000;
      const pastWindow = (row.eligible_at as Date).getTime() < now.getTime() - window;
      expect({ id: row.id, bucket: row.sql_bucket }).toEqual({
        id: row.id,
        bucket: pastWindow ? 'active_stale' : 'active',
      });
    }
  });

  it('a type whose policy was not read yet is judged fresh, never stale', async () => {
    const partial = sqlJudge(now, [['slow.sync', policyOf('slow.sync')]]);
    const stale = await t.db
      .selectFrom('operation_runs')
      .select('type')
      .distinct()
      .where(RUN_CLASSES.active_stale.sql(partial))
      .execute();
    expect(stale.map((r) => r.type)).toEqual(['slow.sync']);
  });
});

describe('visibility: the JS and SQL forms agree', () => {
  it('on every row, for whole workspaces, tenant restrictions, none and all', async () => {
    const all = await rows();
    const other = uuidv7();
    const cases = [
      SEE_ALL,
      seeScopes([]),
      seeScopes([{ workspaceId: scope.workspaceId, tenantIds: null }]),
      seeScopes([{ workspaceId: scope.workspaceId, tenantIds: [] }]),
      seeScopes([{ workspaceId: scope.workspaceId, tenantIds: [scope.tenantId] }]),
      seeScopes([{ workspaceId: other, tenantIds: null }]),
      seeScopes([
        { workspaceId: other, tenantIds: null },
        { workspaceId: scope.workspaceId, tenantIds: [otherTenant, scope.tenantId] },
      ]),
    ];
    for (const visibility of cases) {
      const selected = await t.db
        .selectFrom('operation_runs')
        .select('id')
        .where(visibleSql(visibility))
        .execute();
      const expected = all
        .filter((r) => canSee(visibility, { workspaceId: r.workspace_id, tenantId: r.tenant_id }))
        .map((r) => r.id);
      expect(selected.map((r) => r.id).sort()).toEqual(expected.sort());
    }
  });
});
