import { beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/uuid.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { runTestWorker } from '../support/worker.js';

const h = await apiHarness();
let owner: Caller;
let operator: Caller;
let platform: Caller;

interface RunView {
  id: string;
  status: string;
  outcome: string;
  tenantId: string | null;
  type: string;
  retryOf: string | null;
  failures: Array<{ code: string; message: string }>;
  progress: { processed: number; total: number | null } | null;
  truth: {
    problemClass: string;
    bucket: string;
    headline: string;
    badges: Array<{ label: string }>;
  };
  links: { view: string };
}

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  operator = await h.login('operator@demo.test');
  platform = await h.login('platform@demo.test');
});

const start = (caller: Caller, input: object, tenantId = h.ids.prod, type = 'demo.sleep') =>
  h.request(caller, {
    method: 'POST',
    url: '/api/workspaces/contoso/operations',
    payload: { type, tenantId, input },
  });

async function list(caller: Caller, query: string) {
  const res = await h.request(caller, {
    method: 'GET',
    url: `/api/workspaces/contoso/operations?${query}`,
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { items: RunView[]; nextCursor: string | null };
}

describe('running operations started over the API', () => {
  it('runs started over the API succeed, fail with sanitized failures, and notify the initiator', async () => {
    const worker = await runTestWorker(h.t, h.registry);
    try {
      const ok = (await start(operator, { seconds: 0, tag: 'ok' })).json().run as RunView;
      const bad = (await start(operator, { seconds: 0, outcome: 'throw', tag: 'bad' })).json()
        .run as RunView;
      const detail = async (id: string) =>
        (
          await h.request(operator, { method: 'GET', url: `/api/operations/${id}` })
        ).json() as RunView & {
          timeline: Array<{ kind: string; title: string; detail: string | null }>;
        };
      const done = await until(async () => {
        const d = await detail(ok.id);
        return d.status === 'completed' ? d : undefined;
      });
      expect(done.outcome).toBe('succeeded');
      expect(done.timeline.map((e) => e.kind)).toEqual(['created', 'running', 'completed']);
      // A person reads words, never the raw kinds.
      expect(done.timeline.map((e) => e.title)).toEqual([
        'Started',
        'Attempt 1 running',
        'Finished: succeeded',
      ]);
      const failed = await until(async () => {
        const d = await detail(bad.id);
        return d.status === 'completed' ? d : undefined;
      });
      expect(failed.outcome).toBe('failed');
      expect(failed.truth.problemClass).toBe('terminal_follow_up');
      const text = JSON.stringify(failed.failures);
      expect(text).not.toMatch(/\n\s+at /);
      expect(text).not.toMatch(/\.(ts|js):\d+/);
      const notes = (
        await h.request(operator, { method: 'GET', url: '/api/notifications' })
      ).json() as {
        items: Array<{ id: string; runId: string; link: string; readAt: string | null }>;
        unreadCount: number;
      };
      const note = notes.items.find((n) => n.runId === bad.id);
      expect(note?.link).toBe(`/admin/operations/${bad.id}`);
      const read = await h.request(operator, {
        method: 'POST',
        url: `/api/notifications/${note?.id}/read`,
      });
      expect(read.statusCode).toBe(200);
      const after = (
        await h.request(operator, { method: 'GET', url: '/api/notifications' })
      ).json();
      expect(after.unreadCount).toBe(notes.unreadCount - 1);
      // Someone else's notification is not found.
      const theirs = await h.request(owner, {
        method: 'POST',
        url: `/api/notifications/${note?.id}/read`,
      });
      expect(theirs.statusCode).toBe(404);
    } finally {
      await worker.close();
    }
  });
});

describe('starting operations', () => {
  it('answers 202 with the run and its truth, and reuses the active run for a duplicate start', async () => {
    const first = await start(operator, { seconds: 60, tag: 'dup' });
    expect(first.statusCode).toBe(202);
    const body = first.json() as { run: RunView; reused: boolean };
    expect(body.reused).toBe(false);
    expect(body.run).toMatchObject({ status: 'queued', outcome: 'pending', type: 'demo.sleep' });
    // No worker process runs in this test: the truth says so (DESIGN §17 honest waiting).
    expect(body.run.truth.headline).toBe('Queued — no worker is running.');
    expect(body.run.links.view).toBe(`/admin/operations/${body.run.id}`);
    const again = (await start(owner, { seconds: 60, tag: 'dup' })).json() as {
      run: RunView;
      reused: boolean;
    };
    expect(again).toMatchObject({ reused: true, run: { id: body.run.id } });
  });

  it('turns 40 concurrent identical starts over HTTP into one run and 39 reuses', async () => {
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${address}/api/workspaces/contoso/operations`, {
          method: 'POST',
          headers: { ...owner.headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'demo.sleep',
            tenantId: h.ids.dev,
            input: { seconds: 60, tag: 'race' },
          }),
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { run: RunView; reused: boolean },
        })),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(202));
    expect(new Set(responses.map((r) => r.body.run.id)).size).toBe(1);
    expect(responses.filter((r) => r.body.reused)).toHaveLength(39);
    const rows = await h.db
      .selectFrom('operation_runs')
      .select('id')
      .where('input', '@>', JSON.stringify({ tag: 'race' }) as never)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('answers an unknown type 422, input that fails the schema 422 with the paths, an inactive tenant 409', async () => {
    const unknown = await start(owner, {}, h.ids.prod, 'nope.nope');
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([422, 'unknown_type']);
    const invalid = await start(owner, { seconds: 'soon' });
    expect([invalid.statusCode, invalid.json().error.code]).toEqual([422, 'invalid_input']);
    expect(invalid.json().error.details.issues.map((i: { path: string }) => i.path)).toEqual([
      'seconds',
    ]);
    const inactive = await start(owner, { seconds: 1 }, h.ids.legacy);
    expect(inactive.statusCode).toBe(409);
    expect(inactive.json().error).toMatchObject({
      code: 'tenant_inactive',
      details: { reasonCode: 'gate.tenant_inactive' },
    });
  });
});

describe('listing runs', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // One run per bucket in contoso-dev (a fresh type so other tests' runs do not interfere).
    const userId = await h.userId('owner@demo.test');
    const begin = async (tag: string, runs: RunService = h.runs) => {
      const { run } = await startRun(
        { db: h.db, runs, registry: h.registry },
        {
          type: 'policy.sync_one',
          workspaceId: h.ids.contoso,
          tenantId: h.ids.dev,
          input: { policyId: tag },
          initiatorUserId: userId,
        },
      );
      return run.id;
    };
    ids.active = await begin('active');
    const past = new RunService({ db: h.db, clock: () => new Date(Date.now() - 2 * 3600_000) });
    ids.stale = await begin('stale', past);
    ids.reconciled = await begin('reconciled');
    await h.runs.forceFail(ids.reconciled, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting heartbeats.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
    ids.followUp = await begin('follow-up');
    await h.runs.complete(ids.followUp, {
      outcome: 'partially_succeeded',
      failures: [{ code: 'handler.error', message: '2 items failed' }],
    });
    ids.succeeded = await begin('succeeded');
    await h.runs.complete(ids.succeeded, { outcome: 'succeeded' });
    const old = new RunService({
      db: h.db,
      clock: () => new Date(Date.now() - 40 * 24 * 3600_000),
    });
    ids.old = await begin('old', old);
    await old.complete(ids.old, { outcome: 'succeeded' });
  });

  it.each([
    ['active', 'active', 'none'],
    ['active_stale', 'stale', 'active_stale'],
    ['reconciled', 'reconciled', 'reconciled'],
    ['terminal_follow_up', 'followUp', 'terminal_follow_up'],
    ['succeeded', 'succeeded', 'none'],
  ])('bucket=%s holds exactly the runs whose truth says so', async (bucket, key, problemClass) => {
    const page = await list(owner, `type=policy.sync_one&bucket=${bucket}`);
    expect(page.items.map((r) => r.id)).toEqual([ids[key]]);
    expect(page.items[0]?.truth.problemClass).toBe(problemClass);
    expect(page.items[0]?.truth.bucket).toBe(bucket);
  });

  it('shows a stale-active run without calm queue or progress copy', async () => {
    const [stale] = (await list(owner, 'type=policy.sync_one&bucket=active_stale')).items;
    expect(stale?.truth.headline).toBe(
      'Past the lifecycle window. Review worker health and logs before retrying.',
    );
    expect(stale?.truth.badges.map((b) => b.label)).toContain('Likely stale');
  });

  it('defaults to the last 30 days; from/to widen or narrow it', async () => {
    const recent = await list(owner, 'type=policy.sync_one&bucket=all');
    expect(recent.items.map((r) => r.id)).not.toContain(ids.old);
    const from = new Date(Date.now() - 60 * 24 * 3600_000).toISOString();
    const wide = await list(
      owner,
      `type=policy.sync_one&bucket=all&from=${encodeURIComponent(from)}`,
    );
    expect(wide.items.map((r) => r.id)).toContain(ids.old);
  });

  it('pages with an opaque keyset cursor: newest first, no duplicates, no gaps', async () => {
    const all = await list(owner, 'bucket=all&limit=200');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(
        owner,
        `bucket=all&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((r) => r.id));
    const forged = await h.request(owner, {
      method: 'GET',
      url: `/api/workspaces/contoso/operations?cursor=${encodeURIComponent(Buffer.from(JSON.stringify(['2030-01-01T00:00:00.000Z', uuidv7()])).toString('base64url'))}.AAAA`,
    });
    expect([forged.statusCode, forged.json().error.code]).toEqual([400, 'invalid_cursor']);
  });

  it('filters by type, tenant and initiator', async () => {
    const mine = await list(operator, 'initiator=me&limit=200');
    expect(mine.items.length).toBeGreaterThan(0);
    const operatorId = await h.userId('operator@demo.test');
    for (const run of mine.items)
      expect((run as unknown as { initiator: { id: string } }).initiator.id).toBe(operatorId);
    const dev = await list(owner, `tenantId=${h.ids.dev}&limit=200`);
    expect(dev.items.every((r) => r.tenantId === h.ids.dev)).toBe(true);
  });

  it('counts each bucket under the same filters as the list', async () => {
    const res = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations/counts?type=policy.sync_one',
    });
    expect(res.json().counts).toEqual({
      active: 1,
      active_stale: 1,
      reconciled: 1,
      terminal_follow_up: 1,
      succeeded: 1,
      all: 5,
    });
  });

  it('summarizes with the same rule as the list buckets', async () => {
    const summary = (
      await h.request(owner, {
        method: 'GET',
        url: `/api/workspaces/contoso/operations/summary?tenantId=${h.ids.dev}`,
      })
    ).json();
    const count = async (bucket: string) =>
      (await list(owner, `tenantId=${h.ids.dev}&bucket=${bucket}&limit=200`)).items.length;
    expect(summary.activeFresh).toBe(await count('active'));
    expect(summary.activeStale).toBe(await count('active_stale'));
    expect(summary.reconciled24h).toBe(await count('reconciled'));
  });
});

describe('cancel, external runs, and the system plane', () => {
  it('cancels a queued run at once; a second cancel is a conflict', async () => {
    const run = (await start(owner, { seconds: 60, tag: 'to-cancel' })).json().run as RunView;
    const first = await h.request(owner, {
      method: 'POST',
      url: `/api/operations/${run.id}/cancel`,
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      effect: 'cancelled',
      run: { status: 'completed', outcome: 'cancelled' },
    });
    const second = await h.request(owner, {
      method: 'POST',
      url: `/api/operations/${run.id}/cancel`,
    });
    expect([second.statusCode, second.json().error.code]).toEqual([409, 'conflict']);
  });

  it('lets an external system report progress and completion with an API token; a terminal run is 409', async () => {
    const { token } = (
      await h.request(owner, {
        method: 'POST',
        url: '/api/workspaces/contoso/tokens',
        payload: { name: 'restore', role: 'operator' },
      })
    ).json();
    const bearer = { name: 'restore', headers: { authorization: `Bearer ${token}` } };
    const run = (
      await start(bearer, { restoreRunId: 'restore-42' }, h.ids.prod, 'restore.execute')
    ).json().run as RunView;
    expect(run.truth.headline).toBe('Queued — waiting for the external system to start it.');
    const beat = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${run.id}/heartbeat`,
      payload: { state: 'previewed' },
    });
    expect(beat.json().run.status).toBe('queued');
    const progress = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${run.id}/progress`,
      payload: { processed: 4, total: 10, counts: { items: 4 } },
    });
    expect(progress.statusCode).toBe(200);
    expect(progress.json().run).toMatchObject({
      status: 'running',
      progress: { processed: 4, total: 10 },
    });
    expect(progress.json().run.truth.headline).toBe('4 / 10 processed (40%)');
    const done = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${run.id}/complete`,
      // `complete` carries the final totals (progress reports add up; completion states them).
      payload: { outcome: 'succeeded', counts: { items: 6 } },
    });
    expect(done.json().run).toMatchObject({
      status: 'completed',
      outcome: 'succeeded',
      summaryCounts: { items: 6 },
    });
    const late = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${run.id}/complete`,
      payload: { outcome: 'failed' },
    });
    expect(late.statusCode).toBe(409);
    const notExternal = (await start(bearer, { seconds: 60, tag: 'not-external' })).json()
      .run as RunView;
    const wrong = await h.request(bearer, {
      method: 'POST',
      url: `/api/operations/${notExternal.id}/heartbeat`,
    });
    expect(wrong.statusCode).toBe(409);
  });

  it('lets platform staff see stuck and failed runs, retry, mark reviewed; each action is audited', async () => {
    const userId = await h.userId('owner@demo.test');
    const past = new RunService({ db: h.db, clock: () => new Date(Date.now() - 3 * 3600_000) });
    const { run: stuck } = await startRun(
      { db: h.db, runs: past, registry: h.registry },
      {
        type: 'policy.sync_one',
        workspaceId: h.ids.contoso,
        tenantId: h.ids.prod,
        input: { policyId: 'stuck' },
        initiatorUserId: userId,
      },
    );
    const stuckList = (
      await h.request(platform, { method: 'GET', url: '/api/system/ops/stuck' })
    ).json().items as RunView[];
    expect(stuckList.map((r) => r.id)).toContain(stuck.id);
    expect(stuckList.every((r) => r.truth.problemClass === 'active_stale')).toBe(true);

    const failed = (await start(owner, { seconds: 60, tag: 'triage' })).json().run as RunView;
    await h.runs.complete(failed.id, {
      outcome: 'failed',
      failures: [{ code: 'handler.error', message: 'upstream 503' }],
    });
    const failures = (
      await h.request(platform, { method: 'GET', url: '/api/system/ops/failures' })
    ).json().items as RunView[];
    expect(failures.map((r) => r.id)).toContain(failed.id);

    const retry = await h.request(platform, {
      method: 'POST',
      url: `/api/system/ops/runs/${failed.id}/retry`,
    });
    expect(retry.statusCode).toBe(202);
    expect(retry.json().run).toMatchObject({ retryOf: failed.id, status: 'queued' });
    const reviewed = await h.request(platform, {
      method: 'POST',
      url: `/api/system/ops/runs/${failed.id}/mark-reviewed`,
    });
    expect(reviewed.json().run.truth.badges.map((b: { label: string }) => b.label)).toContain(
      'Reviewed',
    );
    const again = await h.request(platform, {
      method: 'POST',
      url: `/api/system/ops/runs/${failed.id}/mark-reviewed`,
    });
    expect(again.statusCode).toBe(409);
    const open = (
      await h.request(platform, { method: 'GET', url: '/api/system/ops/failures' })
    ).json().items as RunView[];
    expect(open.map((r) => r.id)).not.toContain(failed.id);

    const audit = (
      await h.request(platform, { method: 'GET', url: '/api/system/audit?limit=50' })
    ).json().items as Array<{
      action: string;
      target: { id: string } | null;
      actor: { email: string };
    }>;
    const onRun = audit.filter((a) => a.target?.id === failed.id).map((a) => a.action);
    expect(onRun).toEqual(
      expect.arrayContaining(['system.retry', 'system.mark_reviewed', 'run.start']),
    );
    expect(audit.find((a) => a.action === 'system.retry')?.actor.email).toBe('platform@demo.test');
  });
});
