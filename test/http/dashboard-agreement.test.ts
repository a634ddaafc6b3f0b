import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ListBucket } from '../../src/domain/buckets.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import {
  type Range,
  SUMMARY_TILES,
  type SummaryKey,
  windowStart,
} from '../../src/domain/windows.js';
import { apiHarness, type Caller } from '../support/http.js';

/**
 * One window per number (the "a tile says 3, its list shows 2"): every dashboard tile
 * equals the count of the list it opens, and the header's active count equals the Active tab's,
 * with runs placed just inside and just outside every window edge — including runs that were
 * created outside a window but finished inside it, and old active runs.
 */
const h = await apiHarness();
let owner: Caller;
let restricted: Caller;
const DAY = 24 * 3600_000;
const EDGE_MS = 2_000;

interface Seed {
  tenant: 'prod' | 'dev' | null;
  status: 'queued' | 'running' | 'completed';
  outcome: 'pending' | 'succeeded' | 'failed' | 'blocked' | 'partially_succeeded' | 'cancelled';
  reconciled?: boolean;
  createdAgoMs: number;
  /** Completed (or, for active runs, last heard of) this long ago. */
  lastAgoMs?: number;
  byOwner?: boolean;
}

/** The runs seeded, and the minute their edges were placed against. */
const seeded: string[] = [];
let seededMinute = -1;

async function seed(s: Seed) {
  const now = Date.now();
  const id = uuidv7();
  seeded.push(id);
  const tenantId = s.tenant ? h.ids[s.tenant] : null;
  const last = s.lastAgoMs === undefined ? null : new Date(now - s.lastAgoMs);
  const reconciliation = s.reconciled
    ? JSON.stringify({
        reasonCode: 'run.heartbeat_lost',
        detectedAt: new Date().toISOString(),
        thresholdSeconds: 15,
        lastHeartbeatAt: null,
        evidence: {},
        source: 'test',
      })
    : null;
  await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome,
      identity_hash, initiator_user_id, created_at, started_at, last_heartbeat_at, completed_at, reconciliation)
    values (${id}, ${h.ids.contoso}, ${tenantId}, 'inventory.sync', ${s.status}, ${s.outcome},
      ${uuidv7()}, ${s.byOwner ? (owner.userId ?? null) : null}, ${new Date(now - s.createdAgoMs)},
      ${s.status === 'running' ? new Date(now - s.createdAgoMs) : null},
      ${s.status === 'completed' ? null : last}, ${s.status === 'completed' ? last : null},
      ${reconciliation}::jsonb)`.execute(h.db);
}

/** Where each range's window starts now (whole minutes, as the list page rounds). */
const edge = (range: Range) => Date.now() - windowStart(range, new Date()).getTime();

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  restricted = await h.login('restricted@demo.test');
});

/**
 * Places the runs against the windows of the current minute. A window's start moves on with the
 * minute, and then the runs placed just inside it fall out, so a check in a later minute seeds
 * them again first.
 */
async function seedAll() {
  if (seeded.length > 0) {
    await h.db.deleteFrom('operation_runs').where('id', 'in', seeded.splice(0)).execute();
  }
  seededMinute = Math.floor(Date.now() / 60_000);
  for (const tenant of ['prod', 'dev', null] as const) {
    for (const side of [-EDGE_MS, EDGE_MS]) {
      const near = (range: Range) => edge(range) + side; // inside (−) or outside (+) the window
      // Active, fresh (still heard of) and stale, at the 30-day edge; fresh ones by the owner.
      await seed({
        tenant,
        status: 'queued',
        outcome: 'pending',
        createdAgoMs: near('30d'),
        lastAgoMs: 1000,
        byOwner: true,
      });
      await seed({ tenant, status: 'queued', outcome: 'pending', createdAgoMs: near('30d') });
      await seed({
        tenant,
        status: 'running',
        outcome: 'pending',
        createdAgoMs: near('30d'),
        lastAgoMs: near('30d'),
      });
      // Reconciled at the 24 h edge, finished well inside it.
      await seed({
        tenant,
        status: 'completed',
        outcome: 'failed',
        reconciled: true,
        createdAgoMs: near('24h'),
        lastAgoMs: 3600_000,
      });
      // Follow-up and succeeded at the 7-day edge, finished well inside it.
      for (const outcome of ['failed', 'blocked', 'partially_succeeded', 'succeeded'] as const) {
        await seed({
          tenant,
          status: 'completed',
          outcome,
          createdAgoMs: near('7d'),
          lastAgoMs: DAY,
        });
      }
      await seed({
        tenant,
        status: 'completed',
        outcome: 'cancelled',
        createdAgoMs: near('7d'),
        lastAgoMs: DAY,
      });
    }
    // Recent runs of every class, inside every window.
    await seed({ tenant, status: 'queued', outcome: 'pending', createdAgoMs: 1000, byOwner: true });
    await seed({
      tenant,
      status: 'running',
      outcome: 'pending',
      createdAgoMs: 5000,
      lastAgoMs: 500,
      byOwner: true,
    });
    await seed({
      tenant,
      status: 'completed',
      outcome: 'failed',
      reconciled: true,
      createdAgoMs: 3600_000,
      lastAgoMs: 60_000,
    });
    await seed({
      tenant,
      status: 'completed',
      outcome: 'failed',
      createdAgoMs: 60_000,
      lastAgoMs: 1000,
    });
  }
}

async function get<T>(caller: Caller, url: string): Promise<T> {
  const res = await h.request(caller, { method: 'GET', url });
  expect(res.statusCode, url).toBe(200);
  return res.json() as T;
}

/** Every run of a list, all pages. */
async function listed(caller: Caller, query: URLSearchParams): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams(query);
    q.set('limit', '200');
    if (cursor) q.set('cursor', cursor);
    const page = await get<{
      items: Array<{ id: string; truth: { bucket: string } }>;
      nextCursor: string | null;
    }>(caller, `/api/workspaces/contoso/operations?${q}`);
    for (const run of page.items) expect(run.truth.bucket).toBe(query.get('bucket'));
    ids.push(...page.items.map((r) => r.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/**
 * Runs `check` until it ran within the minute the runs were placed in (windows start on whole
 * minutes), placing them again when the minute has moved on.
 */
async function withinOneMinute(check: () => Promise<void>) {
  for (;;) {
    if (Math.floor(Date.now() / 60_000) !== seededMinute) await seedAll();
    const minute = seededMinute;
    try {
      await check();
    } catch (error) {
      // A check that failed because the minute moved on under it is run again; any other fails.
      if (Math.floor(Date.now() / 60_000) === minute) throw error;
      continue;
    }
    if (Math.floor(Date.now() / 60_000) === minute) return;
  }
}

const dashboards = () => [
  { name: 'workspace (owner)', caller: owner, tenantId: undefined },
  { name: 'tenant contoso-prod (owner)', caller: owner, tenantId: h.ids.prod },
  { name: 'tenant contoso-dev (owner)', caller: owner, tenantId: h.ids.dev },
  { name: 'workspace (tenant-restricted member)', caller: restricted, tenantId: undefined },
  {
    name: 'tenant contoso-dev (tenant-restricted member)',
    caller: restricted,
    tenantId: h.ids.dev,
  },
];

describe('one window per number', () => {
  it('every tile of the tenant and workspace dashboards equals the count of the list it opens', async () => {
    for (const board of dashboards()) {
      await withinOneMinute(async () => {
        const tenant = board.tenantId ? `?tenantId=${board.tenantId}` : '';
        const summary = await get<Record<SummaryKey, number>>(
          board.caller,
          `/api/workspaces/contoso/operations/summary${tenant}`,
        );
        for (const [key, tile] of Object.entries(SUMMARY_TILES) as Array<
          [SummaryKey, { bucket: ListBucket; range: Range }]
        >) {
          const query = new URLSearchParams({
            bucket: tile.bucket,
            from: windowStart(tile.range, new Date()).toISOString(),
          });
          if (board.tenantId) query.set('tenantId', board.tenantId);
          const list = await listed(board.caller, query);
          const counts = await get<{ counts: Record<ListBucket, number> }>(
            board.caller,
            `/api/workspaces/contoso/operations/counts?${new URLSearchParams([...query].filter(([k]) => k !== 'bucket'))}`,
          );
          expect({ board: board.name, key, tile: summary[key] }).toEqual({
            board: board.name,
            key,
            tile: list.length,
          });
          expect(counts.counts[tile.bucket]).toBe(list.length);
          expect(list.length).toBeGreaterThan(0);
        }
      });
    }
  });

  it('the edges count once: created just inside a window counts, just outside does not', async () => {
    await withinOneMinute(async () => {
      const summary = await get<Record<SummaryKey, number>>(
        owner,
        `/api/workspaces/contoso/operations/summary?tenantId=${h.ids.prod}`,
      );
      // Per tenant: one fresh and one stale queued + one stale running inside 30 days, plus the
      // recent pair; the copies 2 s outside each window are not counted.
      expect(summary).toEqual({
        activeFresh: 3,
        activeStale: 2,
        reconciled24h: 2,
        followUp7d: 4,
        succeeded7d: 1,
      });
    });
  });

  it("the header's active count is the Active tab's (the caller's runs, same window)", async () => {
    await withinOneMinute(async () => {
      const mine = new URLSearchParams({ initiator: 'me' });
      const counts = await get<{ counts: Record<ListBucket, number> }>(
        owner,
        `/api/workspaces/contoso/operations/counts?${mine}`,
      );
      const fresh = await listed(owner, new URLSearchParams({ initiator: 'me', bucket: 'active' }));
      const stale = await listed(
        owner,
        new URLSearchParams({ initiator: 'me', bucket: 'active_stale' }),
      );
      expect(counts.counts.active).toBe(fresh.length);
      expect(counts.counts.active_stale).toBe(stale.length);
      // 3 tenants × (the 30-day fresh one inside + the recent queued and running ones).
      expect(fresh.length).toBe(9);
    });
  });
});
