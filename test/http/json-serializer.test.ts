import { serializerCompiler } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LIST_BUCKETS } from '../../src/domain/buckets.js';
import { zodWriter } from '../../src/http/json-serializer.js';
import { readModelOf, toRunView } from '../../src/http/run-view.js';
import { RunViewSchema, SummarySchema } from '../../src/http/schemas.js';
import { RUN_VIEW_COLUMNS } from '../../src/runs/run-reads.js';
import { apiHarness } from '../support/http.js';

// The hot read routes write their answers from the response's JSON Schema instead of zod's encode
// + JSON.stringify: the bytes must be the same, for runs of every class and every odd value.
const h = await apiHarness({ history: true });

const Page = z.object({ items: z.array(RunViewSchema), nextCursor: z.string().nullable() });
const zodWrite = (schema: z.ZodType) =>
  serializerCompiler({ schema, method: 'GET', url: '/' }) as (data: unknown) => string;

describe('the JSON Schema writer', () => {
  it('writes every run of the demo history exactly as zod encode + JSON.stringify does', async () => {
    const reads = readModelOf(h);
    const now = new Date();
    const page = await reads.list(
      {
        visibility: { all: true },
        bucket: 'all',
        from: new Date(0),
        limit: 200,
      },
      now,
    );
    const items = page.rows.map((run) => toRunView(run, h.registry, now));
    const buckets = new Set(items.map((v) => v.truth.bucket));
    expect(buckets.size).toBeGreaterThanOrEqual(5);
    const answer = { items, nextCursor: 'opaque' };
    expect(zodWriter(Page)(answer)).toBe(zodWrite(Page)(answer));
    expect(zodWriter(Page)({ items, nextCursor: null })).toBe(
      zodWrite(Page)({ items, nextCursor: null }),
    );
  });

  it("a list row (only the view's columns) makes the same view as the whole row", async () => {
    const reads = readModelOf(h);
    const now = new Date();
    const page = await reads.list(
      { visibility: { all: true }, bucket: 'all', from: new Date(0), limit: 200 },
      now,
    );
    expect(page.rows.length).toBeGreaterThan(10);
    for (const row of page.rows) {
      expect(Object.keys(row).sort()).toEqual(
        [...RUN_VIEW_COLUMNS, 'initiator_name', 'row_version'].sort(),
      );
      const whole = await reads.find(row.id);
      expect(whole).toBeDefined();
      if (whole) expect(toRunView(row, h.registry, now)).toEqual(toRunView(whole, h.registry, now));
    }
  });

  it('leaves out keys the schema does not have, escapes strings, writes null, records and unions', () => {
    const Shape = z.object({
      text: z.string(),
      maybe: z.string().nullable(),
      count: z.number(),
      counts: z.record(z.string(), z.number()),
      anything: z.record(z.string(), z.unknown()).nullable(),
      list: z.array(z.object({ code: z.string(), message: z.string() })),
      progress: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('none') }),
        z.object({ kind: z.literal('bar'), percent: z.number() }),
      ]),
      flag: z.boolean(),
    });
    const odd = 'quote " backslash \\ newline \n tab \t control \u0001 emoji 😀 lone \ud800 end';
    const values = [
      {
        text: odd,
        maybe: null,
        count: -0,
        counts: { items: 120, 'we"ird': 3 },
        anything: { nested: { a: [1, 'x', null] }, when: '2026-01-01T00:00:00.000Z' },
        list: [{ code: 'handler.error', message: odd, extra: 'not in the schema' }],
        progress: { kind: 'bar', percent: 42.5, extra: true },
        flag: false,
        unknown: 'not in the schema',
      },
      {
        text: 'x'.repeat(200),
        maybe: 'plain',
        count: 1e21,
        counts: {},
        anything: null,
        list: [],
        progress: { kind: 'none' },
        flag: true,
      },
    ];
    for (const value of values) expect(zodWriter(Shape)(value)).toBe(zodWrite(Shape)(value));
  });

  it('serves the list, counts and summary routes with it, error answers unchanged', async () => {
    const owner = await h.login('owner@demo.test');
    for (const bucket of LIST_BUCKETS) {
      const res = await h.request(owner, {
        method: 'GET',
        url: `/api/workspaces/contoso/operations?bucket=${bucket}&limit=200`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(zodWrite(Page)(res.json()));
    }
    const summary = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations/summary',
    });
    expect(summary.statusCode).toBe(200);
    expect(summary.body).toBe(zodWrite(SummarySchema)(summary.json()));
    const counts = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations/counts',
    });
    expect(counts.statusCode).toBe(200);
    const Counts = z.object({
      counts: z.object(Object.fromEntries(LIST_BUCKETS.map((b) => [b, z.number()]))),
      cap: z.number(),
    });
    expect(counts.body).toBe(zodWrite(Counts)(counts.json()));
    const refused = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/operations?limit=0',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: { code: expect.any(String) } });
    const unknown = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/nowhere/operations/summary',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('a finished run kept by the list is written anew once its row or its initiator changes', async () => {
    const owner = await h.login('owner@demo.test');
    const url = '/api/workspaces/contoso/operations?bucket=terminal_follow_up&limit=200';
    type Item = { id: string; reviewedAt: string | null; initiator: { name: string } | null };
    const items = async () => {
      const res = await h.request(owner, { method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe(zodWrite(Page)(res.json()));
      return (res.json() as { items: Item[] }).items;
    };
    const before = await items();
    const run = before.find((i) => i.initiator !== null && i.reviewedAt === null);
    expect(run).toBeDefined();
    if (!run?.initiator) return;
    expect(await items()).toEqual(before);

    await sql`update operation_runs set reviewed_at = now() where id = ${run.id}`.execute(h.db);
    const reviewed = (await items()).find((i) => i.id === run.id);
    expect(reviewed?.reviewedAt).not.toBeNull();

    const renamed = `${run.initiator.name} (renamed)`;
    await sql`update users set name = ${renamed} where id = (
      select initiator_user_id from operation_runs where id = ${run.id})`.execute(h.db);
    expect((await items()).find((i) => i.id === run.id)?.initiator?.name).toBe(renamed);
  });
});
