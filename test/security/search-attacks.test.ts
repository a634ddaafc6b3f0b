import { beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/execution/start.js';
import { flowHarness } from '../http/flow-support.js';
import type { Caller } from '../support/http.js';
import { changesNothing, refused, send } from './attack-support.js';

// Attacks on the list's search (issue 23, DESIGN §18): id prefixes shared with another
// workspace's runs, `input.<path>` keys and values written to break out of the query, SQL-ish
// tags and failure codes, oversized terms. Every answer is a 400 or a page of the caller's own
// runs (never a 500, never another workspace's run), and a search writes nothing.

const h = await flowHarness();
let owner: Caller;
let devOnly: Caller;
const SECRET = 'fabrikam-only-value';
const fabrikamRuns: string[] = [];
const contosoRuns: string[] = [];
let devRun: string;
let prodRun: string;

const start = async (
  workspace: 'contoso' | 'fabrikam',
  tenantId: string,
  input: object,
  tags?: string[],
) => {
  const started = await startRun(h, {
    type: 'policy.sync_one',
    workspaceId: h.ids[workspace],
    tenantId,
    input,
    initiatorUserId: null,
    ...(tags ? { tags } : {}),
  });
  (workspace === 'contoso' ? contosoRuns : fabrikamRuns).push(started.run.id);
  return started.run.id;
};

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  devOnly = await h.member('dev-only@demo.test', 'operator', [h.ids.dev]);
  // Interleaved in the same second: uuidv7 ids that share their first 8 (and more) hex digits.
  for (let i = 0; i < 5; i++) {
    await start('fabrikam', h.ids.fabrikamProd, { policyId: SECRET, nested: { deep: 'x' } }, [
      'shared',
      "' or 1=1 --",
    ]);
    await start('contoso', i % 2 ? h.ids.prod : h.ids.dev, { policyId: `c-${i}` }, ['shared']);
  }
  devRun = contosoRuns[0] as string;
  prodRun = contosoRuns[1] as string;
  // Both workspaces have runs that failed with the same code.
  await h.db
    .updateTable('operation_runs')
    .set({
      status: 'completed',
      outcome: 'failed',
      completed_at: new Date(),
      failures: JSON.stringify([{ code: 'graph.throttled', message: 'throttled' }]),
    })
    .where('id', 'in', [fabrikamRuns[0] as string, devRun])
    .execute();
});

/** The list and the counts for one raw query string, as an attacker would type it. */
async function search(caller: Caller, query: string) {
  const list = await send(
    h.base,
    caller,
    'GET',
    `/api/workspaces/contoso/operations?limit=200&${query}`,
  );
  const counts = await send(
    h.base,
    caller,
    'GET',
    `/api/workspaces/contoso/operations/counts?${query}`,
  );
  const ids = ((list.json.items ?? []) as Array<{ id: string }>).map((r) => r.id);
  return { list, counts, ids, all: (counts.json.counts as { all?: number } | undefined)?.all };
}

/** Either a 400 for both, or the caller's own runs only, never a 500 nor a fabrikam run. */
async function harmless(caller: Caller, query: string, expected?: string[]) {
  const found = await changesNothing(h, () => search(caller, query));
  expect(found.list.status, `${query}: ${found.list.body}`).not.toBe(500);
  expect(found.counts.status, `${query}: ${found.counts.body}`).toBe(found.list.status);
  if (found.list.status === 400) {
    refused(found.list, 400, 'validation_failed');
    refused(found.counts, 400, 'validation_failed');
    return found;
  }
  expect(found.list.status, `${query}: ${found.list.body}`).toBe(200);
  for (const id of fabrikamRuns) expect(found.list.body, query).not.toContain(id);
  expect(found.list.body).not.toContain(SECRET);
  expect(found.all, query).toBe(found.ids.length);
  if (expected) expect(found.ids.sort(), query).toEqual([...expected].sort());
  return found;
}

describe('an id prefix shared with another workspace’s runs', () => {
  it('finds only the caller’s runs, in the list and the counts, for every prefix length', async () => {
    const theirs = fabrikamRuns[2] as string;
    const hex = theirs.replaceAll('-', '');
    expect(contosoRuns.some((id) => id.startsWith(theirs.slice(0, 8)))).toBe(true);
    for (const length of [8, 9, 12, 16, 31]) {
      const prefix = hex.slice(0, length);
      const expected = contosoRuns.filter((id) => id.replaceAll('-', '').startsWith(prefix));
      await harmless(owner, `q=${prefix}`, expected);
      await harmless(owner, `q=${prefix.toUpperCase()}`, expected);
    }
    for (const form of [theirs, hex, theirs.toUpperCase(), ` ${theirs} `])
      await harmless(owner, `q=${encodeURIComponent(form)}`, []);
  });

  it('shows a tenant-restricted member only their tenant’s runs for the same prefix', async () => {
    const prefix = (prodRun as string).slice(0, 8);
    const found = await harmless(devOnly, `q=${prefix}`);
    expect(found.ids).not.toContain(prodRun);
    expect(found.ids).toContain(devRun);
    await harmless(devOnly, `q=${prodRun}`, []);
  });

  it('refuses a q that is no id prefix (SQL, wildcards, short, 10,000 characters) with a 400', async () => {
    for (const q of [
      "' or 1=1 --",
      '%',
      '0195%',
      '________',
      `${(fabrikamRuns[0] as string).slice(0, 8)}' or 'a'='a`,
      'abc',
      'g'.repeat(8),
      '0'.repeat(33),
      'a'.repeat(10_000),
    ]) {
      const found = await harmless(owner, `q=${encodeURIComponent(q)}`);
      expect(found.list.status, q).toBe(400);
    }
  });
});

describe('input.<path>=<value> written to break out of the query', () => {
  it('answers a bad path with a 400 and a hostile value with no rows', async () => {
    const badPaths = [
      "input.policyId'=x",
      'input.policyId")=x',
      'input.a)or(true=x',
      "input.policyId' or '1'='1=x",
      'input.a;drop table operation_runs=x',
      'input.a b=x',
      'input.=x',
      'input..policyId=x',
      'input.policyId.=x',
      'input.a.b.c.d.e.f.g=x',
      `input.${'a'.repeat(65)}=x`,
      'input.policyId[$ne]=x',
      'input.p%C3%B6licy=x',
      'input.%E2%80%AEpolicyId=x',
      'input.policy%00Id=x',
      `input.policyId=${'v'.repeat(201)}`,
    ];
    for (const query of badPaths) {
      const found = await harmless(owner, query);
      expect(found.list.status, query).toBe(400);
    }
    const hostileValues = [
      "' or '1'='1",
      '") or true --',
      '"}\'::jsonb or true --',
      `${SECRET}"} or input @> '{}`,
      '*',
      '%',
      '{"$ne":null}',
      '日本語',
      '\u202e',
      'a\u0000b',
      '\\',
      'v'.repeat(200),
    ];
    for (const value of hostileValues)
      await harmless(owner, `input.policyId=${encodeURIComponent(value)}`, []);
  });

  it('finds nothing for __proto__ and constructor paths, and pollutes no prototype', async () => {
    for (const query of [
      'input.__proto__=x',
      'input.__proto__.policyId=c-0',
      'input.constructor.prototype.polluted=yes',
      'input.__proto__.polluted=yes',
      '__proto__.polluted=yes',
      'constructor.prototype.polluted=yes',
    ]) {
      const found = await harmless(owner, query);
      // An `input.` term finds nothing; any other key is not a search term (the whole list).
      if (found.list.status === 200 && query.startsWith('input.'))
        expect(found.ids, query).toEqual([]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('takes at most 5 filters at once and 6 path names deep', async () => {
    const five = ['policyId=c-0', 'a=1', 'b=2', 'c=3', 'd=4'].map((f) => `input.${f}`).join('&');
    await harmless(owner, five, []);
    const six = `${five}&input.e=5`;
    expect((await harmless(owner, six)).list.status).toBe(400);
    const many = Array.from({ length: 50 }, (_, i) => `input.k${i}=${i}`).join('&');
    expect((await harmless(owner, many)).list.status).toBe(400);
    await harmless(owner, 'input.a.b.c.d.e.f=x', []);
    expect((await harmless(owner, 'input.a.b.c.d.e.f.g=x')).list.status).toBe(400);
  });

  it('never finds another workspace’s runs by their input, nested or not', async () => {
    await harmless(owner, `input.policyId=${SECRET}`, []);
    await harmless(owner, 'input.nested.deep=x', []);
    await harmless(devOnly, 'input.policyId=c-1', []);
    await harmless(devOnly, 'input.policyId=c-0', [devRun]);
    await harmless(owner, 'input.policyId=c-1', [prodRun]);
  });
});

describe('tag and failureCode with SQL-ish content', () => {
  it('find only the caller’s runs, or a 400', async () => {
    await harmless(owner, 'tag=shared', contosoRuns);
    await harmless(
      devOnly,
      'tag=shared',
      contosoRuns.filter((_, i) => i % 2 === 0),
    );
    for (const tag of [
      "' or 1=1 --",
      "shared'] or true --",
      'shared}',
      '{shared}',
      '"shared"',
      '%',
      'a\u0000b',
      '\\',
    ])
      await harmless(owner, `tag=${encodeURIComponent(tag)}`, []);
    expect((await harmless(owner, `tag=${'t'.repeat(65)}`)).list.status).toBe(400);
    expect((await harmless(owner, `tag=${'t'.repeat(10_000)}`)).list.status).toBe(400);

    await harmless(owner, 'failureCode=graph.throttled', [devRun]);
    for (const code of [
      "graph.throttled' or '1'='1",
      'graph.throttled"},{"code":"x',
      '"}]\'::jsonb or true --',
      '%',
      'a\u0000b',
      '\\',
    ])
      await harmless(owner, `failureCode=${encodeURIComponent(code)}`, []);
    expect((await harmless(owner, `failureCode=${'f'.repeat(10_000)}`)).list.status).toBe(400);
  });
});

describe('search in another workspace', () => {
  it('is the workspace’s 404 for every term, before any term is read', async () => {
    for (const query of [
      `q=${(fabrikamRuns[0] as string).slice(0, 8)}`,
      `input.policyId=${SECRET}`,
      'tag=shared',
    ]) {
      const list = await send(h.base, owner, 'GET', `/api/workspaces/fabrikam/operations?${query}`);
      const counts = await send(
        h.base,
        owner,
        'GET',
        `/api/workspaces/fabrikam/operations/counts?${query}`,
      );
      refused(list, 404, 'not_found');
      refused(counts, 404, 'not_found');
      expect(list.body).not.toContain(SECRET);
    }
  });
});
