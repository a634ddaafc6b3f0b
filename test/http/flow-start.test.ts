import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { rowCounts } from '../support/http.js';
import { flowHarness } from './flow-support.js';

// DESIGN §11, §17: a start says how urgent it is and when it may run and give up; the run view
// shows it; bad values are a 400 that writes nothing.

const h = await flowHarness();
let operator: RunwardenClient;
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  operator = h.as(await h.login('operator@demo.test'));
});

const start = (body: Record<string, unknown>) =>
  operator.POST('/api/workspaces/{ws}/operations', {
    params: ws,
    body: { type: 'graph.sync', tenantId: h.ids.prod, input: { n: ++n }, ...body } as never,
  });

describe('starting with priority, runAt, delaySeconds and expiresAt', () => {
  it('takes them, stores them and shows them in the run view', async () => {
    const runAt = new Date(Date.now() + 3_600_000);
    const expiresAt = new Date(runAt.getTime() + 600_000);
    const started = await start({
      priority: 'high',
      runAt: runAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
    });
    expect(started.response.status).toBe(202);
    const run = started.data?.run;
    expect(run).toMatchObject({
      priority: 'high',
      runAt: runAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      status: 'queued',
    });
    const row = await h.db
      .selectFrom('operation_runs')
      .select(['priority', 'run_at', 'expires_at', 'held'])
      .where('id', '=', run?.id as string)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ priority: -1, run_at: runAt, expires_at: expiresAt, held: true });

    const detail = await operator.GET('/api/operations/{id}', {
      params: { path: { id: run?.id as string } },
    });
    expect(detail.data).toMatchObject({ priority: 'high', runAt: runAt.toISOString() });
  });

  it('a delay becomes runAt from now; a run without options is normal, now, never expiring', async () => {
    const before = Date.now();
    const delayed = await start({ delaySeconds: 120, priority: 'low' });
    expect(delayed.response.status).toBe(202);
    const runAt = Date.parse(delayed.data?.run.runAt as string);
    expect(runAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(runAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(delayed.data?.run.priority).toBe('low');

    const plain = await operator.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: { type: 'demo.sleep', tenantId: h.ids.prod, input: { seconds: 600, tag: 'plain' } },
    });
    expect(plain.data?.run).toMatchObject({ priority: 'normal', runAt: null, expiresAt: null });
    const listed = await operator.GET('/api/workspaces/{ws}/operations', {
      params: { ...ws, query: { type: 'graph.sync' } },
    });
    expect(listed.data?.items.map((r) => r.priority)).toEqual(['low', 'high']);
  });

  it('a priority reaches the queue job of a type without flow', async () => {
    const started = await operator.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: {
        type: 'demo.sleep',
        tenantId: h.ids.dev,
        input: { seconds: 600, tag: 'urgent' },
        priority: 'high',
      },
    });
    const { rows } = await sql<{ priority: number }>`
      select priority from graphile_worker.jobs where key = ${started.data?.run.id}`.execute(h.db);
    expect(rows[0]?.priority).toBe(-1);
  });

  it.each([
    ['an unknown priority', { priority: 'urgent' }, 'priority'],
    ['a runAt that is not an instant', { runAt: 'tomorrow' }, 'runAt'],
    ['a runAt without its offset', { runAt: '2030-01-01T00:00:00' }, 'runAt'],
    ['a negative delay', { delaySeconds: -1 }, 'delaySeconds'],
    ['a delay beyond 30 days', { delaySeconds: 30 * 86_400 + 1 }, 'delaySeconds'],
    ['a delay that is not a number', { delaySeconds: '60' }, 'delaySeconds'],
    [
      'runAt and delaySeconds together',
      { runAt: new Date(Date.now() + 60_000).toISOString(), delaySeconds: 5 },
      'delaySeconds',
    ],
    [
      'a runAt beyond 30 days',
      { runAt: new Date(Date.now() + 31 * 86_400_000).toISOString() },
      'runAt',
    ],
    [
      'an expiry already past',
      { expiresAt: new Date(Date.now() - 1000).toISOString() },
      'expiresAt',
    ],
    [
      'an expiry before runAt',
      {
        runAt: new Date(Date.now() + 120_000).toISOString(),
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      },
      'expiresAt',
    ],
    ['an unknown option', { priorty: 'high' }, ''],
  ])('refuses %s with a 400 naming the field, writing nothing', async (_what, body, path) => {
    const before = await rowCounts(h.t);
    const res = await start(body);
    expect(res.response.status).toBe(400);
    expect(res.error?.error.code).toBe('validation_failed');
    const details = res.error?.error.details as Array<{ path: string }>;
    if (path) expect(details.map((d) => d.path)).toContain(path);
    expect(await rowCounts(h.t)).toEqual(before);
  });

  it('an external type refuses timing with a 422 (its runs run elsewhere), writing nothing', async () => {
    const before = await rowCounts(h.t);
    const res = await operator.POST('/api/workspaces/{ws}/operations', {
      params: ws,
      body: {
        type: 'restore.execute',
        tenantId: h.ids.prod,
        input: { restoreRunId: 'r-1' },
        delaySeconds: 60,
      },
    });
    expect(res.response.status).toBe(422);
    expect(res.error?.error.message).toMatch(/external/);
    expect(await rowCounts(h.t)).toEqual(before);
  });
});
