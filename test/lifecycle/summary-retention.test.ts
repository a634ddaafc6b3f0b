import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveTruth } from '../../src/domain/truth.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { seeScopes } from '../../src/domain/visibility.js';
import { PRUNE_LOCK_KEY, prune } from '../../src/lifecycle/retention.js';
import { summarize } from '../../src/lifecycle/summary.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { numberedSync, queuedRuns } from '../support/operations.js';
import { registryOf } from '../support/worker.js';

const sync = numberedSync;
const registry = registryOf(sync);
let t: TestDatabase;
let scope: Scope;
let runs: RunService;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
});

const queued = queuedRuns(() => ({ t, scope, runs, registry }));
async function backdate(
  id: string,
  column: 'created_at' | 'completed_at' | 'last_heartbeat_at',
  secondsAgo: number,
) {
  await sql`update operation_runs set ${sql.ref(column)} = now() - make_interval(secs => ${secondsAgo}) where id = ${id}`.execute(
    t.db,
  );
}

describe('summary', () => {
  it('counts each class with the same rule as every run row', async () => {
    const fresh = await queued();
    const staleQueued = await queued();
    await backdate(staleQueued.id, 'created_at', 1000);
    const lost = await queued();
    await runs.markRunning(lost.id, { workerId: 'w' });
    await backdate(lost.id, 'last_heartbeat_at', 60);
    const reconciled = await queued();
    await runs.markRunning(reconciled.id, { workerId: 'w' });
    await runs.forceFail(reconciled.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'm',
      thresholdSeconds: 15,
      evidence: {},
      source: 't',
    });
    for (const outcome of [
      'failed',
      'blocked',
      'partially_succeeded',
      'succeeded',
      'succeeded',
    ] as const) {
      const run = await queued();
      await runs.complete(run.id, { outcome });
    }
    const old = await queued();
    await runs.complete(old.id, { outcome: 'failed' });
    await backdate(old.id, 'created_at', 8 * 24 * 3600); // outside 7 days
    await backdate(old.id, 'completed_at', 8 * 24 * 3600);

    const now = new Date();
    const summary = await summarize(
      { db: t.db, policyOf: registry.policyOf },
      seeScopes([{ workspaceId: scope.workspaceId, tenantIds: null }]),
      now,
    );
    expect(summary).toEqual({
      activeFresh: 1,
      activeStale: 2,
      reconciled24h: 1,
      followUp7d: 3,
      succeeded7d: 2,
    });

    // The same runs, judged one by one by deriveTruth, land in the same classes.
    const rows = await t.db
      .selectFrom('operation_runs')
      .selectAll()
      .where('status', '!=', 'completed')
      .execute();
    const stale = rows.filter(
      (r) => deriveTruth(r, registry.get(r.type)!.policy, now).problemClass === 'active_stale',
    );
    expect(stale.map((r) => r.id).sort()).toEqual([staleQueued.id, lost.id].sort());
    expect(fresh.status).toBe('queued');

    const none = await summarize(
      { db: t.db, policyOf: registry.policyOf },
      seeScopes([{ workspaceId: scope.workspaceId, tenantIds: [uuidv7()] }]),
      now,
    );
    expect(none).toEqual({
      activeFresh: 0,
      activeStale: 0,
      reconciled24h: 0,
      followUp7d: 0,
      succeeded7d: 0,
    });
  });
});

describe('retention', () => {
  it('prunes terminal runs past the retention period with their events and notifications, never active ones', async () => {
    const oldDone = await queued();
    await runs.complete(oldDone.id, { outcome: 'failed' }); // notifies the initiator
    await backdate(oldDone.id, 'completed_at', 91 * 24 * 3600);
    const recentDone = await queued();
    await runs.complete(recentDone.id, { outcome: 'succeeded' });
    const oldActive = await queued();
    await backdate(oldActive.id, 'created_at', 365 * 24 * 3600);

    const dry = await prune(t.db, { retentionDays: 90, dryRun: true });
    expect(dry.deleted).toBeGreaterThanOrEqual(1);
    expect(await runs.get(oldDone.id)).toBeDefined();

    const progress: number[] = [];
    const report = await prune(t.db, {
      retentionDays: 90,
      batchSize: 1,
      onProgress: (d) => progress.push(d),
    });
    expect(report.ran).toBe(true);
    expect(report.deleted).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(await runs.get(oldDone.id)).toBeUndefined();
    expect(await runs.get(recentDone.id)).toBeDefined();
    expect((await runs.get(oldActive.id))?.status).toBe('queued');
    const leftovers = await sql<{ n: string }>`
      select (select count(*) from run_events where run_id = ${oldDone.id}) + (select count(*) from notifications where run_id = ${oldDone.id}) as n`.execute(
      t.db,
    );
    expect(Number(leftovers.rows[0]?.n)).toBe(0);
  });

  it('one pruner at a time: while another process holds the prune lock, prune does nothing', async () => {
    await t.db.connection().execute(async (other) => {
      await sql`select pg_advisory_lock(${PRUNE_LOCK_KEY})`.execute(other);
      try {
        expect(await prune(t.db, { retentionDays: 90 })).toMatchObject({ ran: false, deleted: 0 });
      } finally {
        await sql`select pg_advisory_unlock(${PRUNE_LOCK_KEY})`.execute(other);
      }
    });
    expect((await prune(t.db, { retentionDays: 90 })).ran).toBe(true);
  });
});
