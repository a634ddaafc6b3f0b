import { beforeAll, describe, expect, it } from 'vitest';
import type { RunwardenClient } from '../../src/client/index.js';
import { startRun } from '../../src/execution/start.js';
import { flowHarness } from './flow-support.js';

// DESIGN §18 over real HTTP with the generated client: the list's search (a run id or prefix, a
// tag, an input value, a failure code), always inside the caller's rights; "Run again…".

const h = await flowHarness();
let owner: RunwardenClient;
let readonly: RunwardenClient;
let outsider: RunwardenClient;
const ws = { path: { ws: 'contoso' } };
let n = 0;

beforeAll(async () => {
  owner = h.as(await h.login('owner@demo.test'));
  readonly = h.as(await h.login('readonly@demo.test'));
  outsider = h.as(await h.login('outsider@demo.test'));
});

async function start(input: Record<string, unknown>, tags?: string[]) {
  const started = await owner.POST('/api/workspaces/{ws}/operations', {
    params: ws,
    body: { type: 'policy.sync_one', tenantId: h.ids.dev, input, ...(tags ? { tags } : {}) },
  });
  if (!started.data) throw new Error(`no start: ${started.response.status}`);
  return started.data.run;
}

async function search(query: Record<string, string>) {
  const page = await owner.GET('/api/workspaces/{ws}/operations', {
    params: { ...ws, query: { limit: 200, ...query } },
  });
  const counted = await owner.GET('/api/workspaces/{ws}/operations/counts', {
    params: { ...ws, query },
  });
  return {
    status: page.response.status,
    ids: (page.data?.items ?? []).map((r) => r.id),
    count: counted.data?.counts.all,
    error: (page.error as { error?: { code: string } } | undefined)?.error?.code,
  };
}

describe('the run list search', () => {
  it('finds a run by its id, and by a prefix only among runs the caller may see', async () => {
    // uuidv7: runs started in the same ~65 s share their first 8 digits; a pair that straddled
    // that boundary is started again, so the prefix is always shared.
    const pair = async () => {
      const mine = await start({ policyId: `p-${++n}` });
      const theirs = await startRun(h, {
        type: 'policy.sync_one',
        workspaceId: h.ids.fabrikam,
        tenantId: h.ids.fabrikamProd,
        input: { policyId: `elsewhere-${n}` },
        initiatorUserId: null,
      });
      return { mine, theirs };
    };
    let { mine, theirs } = await pair();
    if (mine.id.slice(0, 8) !== theirs.run.id.slice(0, 8)) ({ mine, theirs } = await pair());
    expect(theirs.run.id.slice(0, 8)).toBe(mine.id.slice(0, 8));
    expect((await search({ q: mine.id })).ids).toEqual([mine.id]);
    expect((await search({ q: mine.id.replaceAll('-', '').toUpperCase() })).ids).toEqual([mine.id]);
    const prefix = await search({ q: theirs.run.id.slice(0, 8) });
    expect(prefix.ids).not.toContain(theirs.run.id);
    expect(prefix.ids).toContain(mine.id);
    expect(prefix.count).toBe(prefix.ids.length);
    expect(await search({ q: theirs.run.id })).toMatchObject({ ids: [], count: 0 });
    expect(await search({ q: 'abc' })).toMatchObject({ status: 400, error: 'validation_failed' });
    expect(await search({ q: 'not-an-id-at-all' })).toMatchObject({ status: 400 });
  });

  it('finds runs by tag, by input values, and by failure code, with the buckets', async () => {
    const tagged = await start({ policyId: `p-${++n}` }, ['  nightly ', 'eu', 'nightly']);
    expect(tagged.tags).toEqual(['nightly', 'eu']);
    const other = await start({ policyId: `p-${++n}` }, ['eu']);
    expect((await search({ tag: 'nightly' })).ids).toEqual([tagged.id]);
    expect((await search({ tag: 'eu' })).ids).toEqual([other.id, tagged.id]);
    expect((await search({ tag: 'eu', bucket: 'succeeded' })).ids).toEqual([]);

    expect((await search({ 'input.policyId': `p-${n}` })).ids).toEqual([other.id]);
    const numbered = await startRun(h, {
      type: 'inventory.sync',
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      input: {},
      initiatorUserId: null,
    });
    await h.db
      .updateTable('operation_runs')
      .set({ input: JSON.stringify({ batch: { size: 42, region: 'eu-1' } }) })
      .where('id', '=', numbered.run.id)
      .execute();
    expect((await search({ 'input.batch.size': '42' })).ids).toEqual([numbered.run.id]);
    expect((await search({ 'input.batch.size': '42', 'input.batch.region': 'eu-1' })).ids).toEqual([
      numbered.run.id,
    ]);
    expect((await search({ 'input.batch.size': '43' })).ids).toEqual([]);
    expect(await search({ 'input.a b': 'x' })).toMatchObject({ status: 400 });

    await h.runs.complete(tagged.id, {
      outcome: 'failed',
      failures: [{ code: 'graph.throttled', message: 'Too many requests' }],
    });
    expect((await search({ failureCode: 'graph.throttled' })).ids).toEqual([tagged.id]);
    expect((await search({ failureCode: 'graph.throttled', tag: 'eu' })).ids).toEqual([tagged.id]);
    expect((await search({ failureCode: 'graph.throttled', tag: 'other' })).ids).toEqual([]);

    // The code searched is the latest failure's: a run that failed otherwise at the end is not
    // found by an earlier attempt's code.
    await h.runs.complete(other.id, {
      outcome: 'failed',
      failures: [
        { code: 'graph.throttled', message: 'Too many requests' },
        { code: 'graph.forbidden', message: 'Consent was withdrawn' },
      ],
    });
    expect((await search({ failureCode: 'graph.forbidden' })).ids).toEqual([other.id]);
    expect((await search({ failureCode: 'graph.throttled' })).ids).toEqual([tagged.id]);
    expect(
      (await search({ failureCode: 'graph.forbidden', bucket: 'terminal_follow_up' })).ids,
    ).toEqual([other.id]);
  });
});

describe('POST /api/operations/:id/rerun', () => {
  const rerun = (api: RunwardenClient, id: string, input?: Record<string, unknown>) =>
    api.POST('/api/operations/{id}/rerun', {
      params: { path: { id } },
      body: input ? { input } : {},
    });
  const runCount = async () =>
    Number(
      (
        await h.db
          .selectFrom('operation_runs')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('starts a new run with the edited input, linked to the unchanged original', async () => {
    const original = await start({ policyId: `p-${++n}` }, ['rerun-me']);
    await h.runs.complete(original.id, { outcome: 'failed', failures: [] });
    const again = await rerun(owner, original.id, { policyId: 'edited' });
    expect(again.response.status).toBe(202);
    expect(again.data?.run).toMatchObject({ rerunOf: original.id, tags: ['rerun-me'] });
    const stored = await h.db
      .selectFrom('operation_runs')
      .select(['id', 'input', 'rerun_of', 'outcome'])
      .where('id', 'in', [original.id, again.data?.run.id as string])
      .orderBy('id')
      .execute();
    expect(stored).toEqual([
      { id: original.id, input: { policyId: `p-${n}` }, rerun_of: null, outcome: 'failed' },
      {
        id: again.data?.run.id,
        input: { policyId: 'edited' },
        rerun_of: original.id,
        outcome: 'pending',
      },
    ]);
    // Without input: the original's.
    const same = await rerun(owner, original.id);
    expect(same.data?.run.rerunOf).toBe(original.id);
    // The original's page finds what re-ran it.
    const reruns = await owner.GET('/api/workspaces/{ws}/operations', {
      params: { ...ws, query: { rerunOf: original.id } },
    });
    expect(reruns.data?.items.map((r) => r.id)).toEqual([same.data?.run.id, again.data?.run.id]);
  });

  it('refuses input its type refuses, and callers without the right, changing nothing', async () => {
    const original = await start({ policyId: `p-${++n}` });
    const before = await runCount();
    const bad = await rerun(owner, original.id, { policyId: '' });
    expect(bad.response.status).toBe(422);
    expect((await rerun(readonly, original.id)).response.status).toBe(403);
    expect((await rerun(outsider, original.id)).response.status).toBe(404);
    const extra = await owner.POST('/api/operations/{id}/rerun', {
      params: { path: { id: original.id } },
      body: { input: {}, tenant: 'x' } as never,
    });
    expect(extra.response.status).toBe(400);
    expect(await runCount()).toBe(before);

    const fleet = await owner.POST('/api/workspaces/{ws}/fleet-operations', {
      params: ws,
      body: { type: 'policy.sync_one', tenants: ['contoso-dev'], input: { policyId: `f-${++n}` } },
    });
    const parent = fleet.data?.run.id as string;
    expect((await rerun(owner, parent)).response.status).toBe(422);
  });
});
