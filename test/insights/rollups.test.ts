import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/pool.js';
import { foldRollups } from '../../src/insights/rollups.js';
import { RunService } from '../../src/runs/run-service.js';
import { apiHarness, type Caller } from '../support/http.js';

// DESIGN §18 charts: runs that end are counted into per-minute rollups by the database (every
// path that ends a run, set-based ones included), folded from an inbox in one statement each, so
// the charts agree with a direct count over the runs: never twice, never missed.

const h = await apiHarness({ history: true });
let owner: Caller;
let restricted: Caller;
let outsider: Caller;
let n = 0;

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  restricted = await h.login('restricted@demo.test');
  outsider = await h.login('outsider@demo.test');
});

type Ending =
  | 'succeeded'
  | 'failed'
  | 'partially_succeeded'
  | 'blocked'
  | 'cancelled'
  | 'reconciled';

/** A run of `type` on `tenantId` that ends as `ending` (queued ones cancelled as a set). */
async function end(
  ending: Ending,
  options: { type?: string; tenantId?: string | null; runs?: RunService; ran?: boolean } = {},
) {
  const runs = options.runs ?? h.runs;
  const tenantId = options.tenantId === undefined ? h.ids.prod : options.tenantId;
  const type = options.type ?? (tenantId ? 'policy.sync_one' : 'review_pack.generate');
  const { run } = await runs.createOrReuse({
    workspaceId: h.ids.contoso,
    tenantId,
    type,
    identity: { n: ++n },
    input: type === 'policy.sync_one' ? { policyId: `r-${n}` } : {},
    initiatorUserId: null,
  });
  if (ending === 'cancelled' && !options.ran) {
    await runs.cancelMany([run.id], { userId: null });
    return run.id;
  }
  await runs.markRunning(run.id, { workerId: 'rollups-test' });
  if (ending === 'reconciled')
    await runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting heartbeats.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
  else await runs.complete(run.id, { outcome: ending });
  return run.id;
}

/** A chart over HTTP. */
async function chart(caller: Caller, query: string) {
  const res = await h.request(caller, {
    method: 'GET',
    url: `/api/workspaces/contoso/charts?${query}`,
  });
  return res;
}

interface Totals {
  succeeded: number;
  partially_succeeded: number;
  failed: number;
  blocked: number;
  cancelled: number;
  reconciled: number;
}

/** A chart's bars summed by outcome. */
function summed(body: { buckets: Array<{ finished: Totals }> }): Totals {
  const total: Totals = {
    succeeded: 0,
    partially_succeeded: 0,
    failed: 0,
    blocked: 0,
    cancelled: 0,
    reconciled: 0,
  };
  for (const b of body.buckets)
    for (const key of Object.keys(total) as Array<keyof Totals>) total[key] += b.finished[key];
  return total;
}

/** The same, counted directly over the runs that ended in [from, to). */
async function counted(from: string, to: string, where = sql`parent_id is null`): Promise<Totals> {
  const { rows } = await sql<{ outcome: string; reconciled: boolean; n: string }>`
    select outcome, reconciled, count(*) as n from operation_runs
    where workspace_id = ${h.ids.contoso} and status = 'completed'
      and completed_at >= ${from} and completed_at < ${to} and ${where}
    group by 1, 2`.execute(h.db);
  const total: Totals = {
    succeeded: 0,
    partially_succeeded: 0,
    failed: 0,
    blocked: 0,
    cancelled: 0,
    reconciled: 0,
  };
  for (const r of rows)
    total[(r.reconciled ? 'reconciled' : r.outcome) as keyof Totals] += Number(r.n);
  return total;
}

/** The workspace's charts, each equal to a direct count over the runs. */
async function agreesWithRuns() {
  for (const [query, where] of [
    ['range=30d', sql`parent_id is null`],
    ['range=24h', sql`parent_id is null`],
    ['range=1h', sql`parent_id is null`],
    [`range=30d&tenantId=${h.ids.prod}`, sql`tenant_id = ${h.ids.prod}`],
    [`range=24h&tenantId=${h.ids.dev}`, sql`tenant_id = ${h.ids.dev}`],
    ['range=24h&type=policy.sync_one', sql`parent_id is null and type = 'policy.sync_one'`],
    [
      `range=7d&type=policy.sync_one&tenantId=${h.ids.dev}`,
      sql`tenant_id = ${h.ids.dev} and type = 'policy.sync_one'`,
    ],
  ] as const) {
    const res = await chart(owner, query);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(summed(body), query).toEqual(await counted(body.from, body.to, where));
  }
}

describe('rollups', () => {
  it('equal a direct count over the runs after a mixed workload, folded or not yet', async () => {
    // The seeded history (inserted already ended) and the migration's backfill, not folded yet.
    await agreesWithRuns();
    const endings: Ending[] = [
      'succeeded',
      'failed',
      'partially_succeeded',
      'blocked',
      'cancelled',
      'reconciled',
    ];
    for (const ending of endings) {
      await end(ending);
      await end(ending, { tenantId: h.ids.dev });
      await end(ending, { tenantId: null });
    }
    await end('cancelled', { ran: true }); // a running run's cancel is the handler's to finish
    await agreesWithRuns();
    const first = await foldRollups(h.db);
    expect(first.folded).toBeGreaterThan(0);
    await agreesWithRuns();

    // A fleet: its children count under their tenants, the fleet once (its parent) elsewhere.
    const started = await h.request(owner, {
      method: 'POST',
      url: '/api/workspaces/contoso/fleet-operations',
      payload: { type: 'policy.sync_one', tenants: 'all', input: { policyId: 'fleet-rollup' } },
    });
    expect(started.statusCode, started.body).toBe(202);
    const parentId = started.json().run.id as string;
    const children = await h.db
      .selectFrom('operation_runs')
      .select('id')
      .where('parent_id', '=', parentId)
      .execute();
    expect(children.length).toBeGreaterThan(1);
    for (const [i, child] of children.entries()) {
      await h.runs.markRunning(child.id, { workerId: 'rollups-test' });
      await h.runs.complete(child.id, { outcome: i === 0 ? 'failed' : 'succeeded' });
    }
    const parent = await h.runs.get(parentId);
    expect(parent?.status).toBe('completed');
    // A retry: a new run, counted when it ends.
    await end('succeeded');
    await agreesWithRuns();
    await foldRollups(h.db);
    await agreesWithRuns();
    const inbox = await h.db
      .selectFrom('run_rollup_inbox')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(inbox.n)).toBe(0);
  });

  it('count the waits and durations of the runs that started, in histograms', async () => {
    await foldRollups(h.db);
    const { rows } = await sql<{ waits: string; durations: string; started: string }>`
      select (select sum(waits) from run_rollups where workspace_id = ${h.ids.contoso}
                and tenant = '*' and type = '*') as waits,
             (select sum(durations) from run_rollups where workspace_id = ${h.ids.contoso}
                and tenant = '*' and type = '*') as durations,
             (select count(*) from operation_runs where workspace_id = ${h.ids.contoso}
                and status = 'completed' and parent_id is null and started_at is not null) as started`.execute(
      h.db,
    );
    expect(Number(rows[0]?.waits)).toBe(Number(rows[0]?.started));
    expect(Number(rows[0]?.durations)).toBe(Number(rows[0]?.started));
    const body = (await chart(owner, 'range=1h')).json();
    const last = body.buckets.filter((b: { durationP95: number | null }) => b.durationP95 !== null);
    expect(last.length).toBeGreaterThan(0);
    for (const b of last) expect(b.durationP50).toBeLessThanOrEqual(b.durationP95);
  });

  it('never count a run twice nor miss one while runs end during concurrent folds', async () => {
    // Runs end on connections of their own while two folders run over and over.
    const pools = Array.from({ length: 3 }, () => createDb(h.t.url, { max: 2 }));
    const writers = pools.map((db) => new RunService({ db }));
    const folder = createDb(h.t.url, { max: 2 });
    const otherFolder = createDb(h.t.url, { max: 2 });
    let done = false;
    const folds = [folder, otherFolder].map(async (db) => {
      let ran = 0;
      while (!done) if ((await foldRollups(db)).ran) ran++;
      return ran;
    });
    const endings: Ending[] = ['succeeded', 'failed', 'cancelled', 'reconciled'];
    await Promise.all(
      writers.map(async (runs, w) => {
        for (let i = 0; i < 20; i++)
          await end(endings[(i + w) % endings.length] as Ending, { runs, tenantId: h.ids.dev });
      }),
    );
    done = true;
    const ran = await Promise.all(folds);
    expect(ran.reduce((a, b) => a + b, 0)).toBeGreaterThan(1);
    await agreesWithRuns();
    await foldRollups(h.db);
    await agreesWithRuns();
    for (const db of [...pools, folder, otherFolder]) await db.destroy();
  });

  it('lose nothing and add nothing when a fold fails midway', async () => {
    for (const ending of ['succeeded', 'failed'] as const)
      await end(ending, { tenantId: h.ids.dev });
    const inbox = async () =>
      Number(
        (
          await h.db
            .selectFrom('run_rollup_inbox')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const waiting = await inbox();
    expect(waiting).toBeGreaterThan(0);
    const rollups = await h.db
      .selectFrom('run_rollups')
      .selectAll()
      .orderBy(['workspace_id', 'tenant', 'type', 'at'])
      .execute();
    // The database refuses the rollups' write after the inbox rows were taken in the statement.
    await sql`create function rollups_refused() returns trigger language plpgsql as $$
      begin raise exception 'disk full (test)'; end $$`.execute(h.db);
    await sql`create trigger rollups_refused before insert on run_rollups
      for each row execute function rollups_refused()`.execute(h.db);
    try {
      await expect(foldRollups(h.db)).rejects.toThrow(/disk full/);
    } finally {
      await sql`drop trigger rollups_refused on run_rollups`.execute(h.db);
      await sql`drop function rollups_refused()`.execute(h.db);
    }
    expect(await inbox()).toBe(waiting);
    expect(
      await h.db
        .selectFrom('run_rollups')
        .selectAll()
        .orderBy(['workspace_id', 'tenant', 'type', 'at'])
        .execute(),
    ).toEqual(rollups);
    await agreesWithRuns();
    expect((await foldRollups(h.db)).folded).toBe(waiting);
    await agreesWithRuns();
  });

  it('turn minutes older than 2 days into hours, and drop what retention no longer keeps', async () => {
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    const past = new RunService({ db: h.db, clock: () => threeDaysAgo });
    for (const ending of ['succeeded', 'failed', 'reconciled'] as const)
      await end(ending, { runs: past, type: 'inventory.sync' });
    const report = await foldRollups(h.db);
    expect(report.coarsened).toBeGreaterThan(0);
    const minutes = await h.db
      .selectFrom('run_rollups')
      .select(['minutes', 'at'])
      .where('type', '=', 'inventory.sync')
      .where('tenant', '=', h.ids.prod)
      .where('at', '<', new Date(Date.now() - 2 * 86_400_000))
      .execute();
    expect(minutes.length).toBeGreaterThan(0);
    for (const row of minutes) {
      expect(row.minutes).toBe(60);
      expect(row.at.getUTCMinutes()).toBe(0);
    }
    await agreesWithRuns();
    const week = (await chart(owner, 'range=7d&type=inventory.sync')).json();
    expect(summed(week)).toEqual(
      await counted(week.from, week.to, sql`parent_id is null and type = 'inventory.sync'`),
    );
    expect(summed((await chart(owner, 'range=24h&type=inventory.sync')).json())).toEqual(
      await counted(
        new Date(Date.now() - 86_400_000).toISOString(),
        new Date(Date.now() + 86_400_000).toISOString(),
        sql`parent_id is null and type = 'inventory.sync'`,
      ),
    );

    const kept = await foldRollups(h.db, { retentionDays: 2 });
    expect(kept.expired).toBeGreaterThan(0);
    const old = await h.db
      .selectFrom('run_rollups')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('at', '<', new Date(Date.now() - 2 * 86_400_000 - 3_600_000))
      .executeTakeFirstOrThrow();
    expect(Number(old.n)).toBe(0);
  });
});

describe('GET /api/workspaces/:ws/charts', () => {
  it("shows a restricted member their tenants' runs only, and another workspace nothing", async () => {
    await end('failed', { tenantId: h.ids.dev, type: 'baseline.capture' });
    await end('failed', { tenantId: h.ids.prod, type: 'baseline.capture' });
    await end('blocked', { tenantId: null });
    const mine = (await chart(restricted, 'range=1h&type=baseline.capture')).json();
    expect(summed(mine).failed).toBe(1);
    const all = (await chart(owner, 'range=1h&type=baseline.capture')).json();
    expect(summed(all).failed).toBe(2);
    const theirs = await chart(restricted, `range=1h&tenantId=${h.ids.prod}`);
    expect([403, 404]).toContain(theirs.statusCode);
    expect(theirs.json().error.code).toBeTruthy();
    const elsewhere = await chart(outsider, 'range=1h');
    expect(elsewhere.statusCode).toBe(404);
    expect(
      (await h.request(undefined, { method: 'GET', url: '/api/workspaces/contoso/charts' }))
        .statusCode,
    ).toBe(401);
  });

  it("agrees bar by bar with the list's counts of the runs that ended in the bar", async () => {
    await end('succeeded', { tenantId: h.ids.dev });
    await end('partially_succeeded', { tenantId: h.ids.dev });
    await end('reconciled', { tenantId: h.ids.dev });
    await end('cancelled', { tenantId: h.ids.dev });
    for (const query of [
      'range=1h',
      `range=24h&tenantId=${h.ids.dev}`,
      'range=30d&type=policy.sync_one',
    ]) {
      const body = (await chart(owner, query)).json();
      const scope = new URLSearchParams(query);
      scope.delete('range');
      let compared = 0;
      for (const bar of body.buckets) {
        const f: Totals = bar.finished;
        const all = Object.values(f).reduce((a, b) => a + b, 0);
        if (!all) continue;
        const end = new Date(new Date(bar.at).getTime() + body.step * 60_000).toISOString();
        const res = await h.request(owner, {
          method: 'GET',
          url: `/api/workspaces/contoso/operations/counts?${scope}&endedFrom=${bar.at}&endedTo=${end}`,
        });
        expect(res.statusCode, res.body).toBe(200);
        const counts = res.json().counts;
        expect({ query, at: bar.at, counts }).toEqual({
          query,
          at: bar.at,
          counts: {
            active: 0,
            active_stale: 0,
            succeeded: f.succeeded,
            terminal_follow_up: f.failed + f.blocked + f.partially_succeeded,
            reconciled: f.reconciled,
            all: Math.min(all, 1_000),
          },
        });
        if (++compared === 5) break;
      }
      expect(compared, query).toBeGreaterThan(0);
    }
    const half = await h.request(owner, {
      method: 'GET',
      url: `/api/workspaces/contoso/operations?endedFrom=${new Date().toISOString()}`,
    });
    expect(half.statusCode).toBe(400);
  });

  it('refuses a range or tenant it does not know with a 400', async () => {
    expect((await chart(owner, 'range=2h')).statusCode).toBe(400);
    expect((await chart(owner, 'tenantId=not-a-uuid')).statusCode).toBe(400);
    const res = await chart(owner, 'range=24h');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.step).toBe(15);
    expect(body.buckets).toHaveLength(96);
    expect(new Date(body.buckets.at(-1).at).getTime()).toBeLessThanOrEqual(Date.now());
  });
});
