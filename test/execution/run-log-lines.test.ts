import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunRow } from '../../src/db/schema.js';
import { defineOperation } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { prune } from '../../src/lifecycle/retention.js';
import { RUN_LOG_CHANNEL } from '../../src/runs/run-logs.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { registryOf, runTestWorker } from '../support/worker.js';

// Run logs (DESIGN §18) written by a real worker: ctx.log lines are stored in order with their
// attempt, sanitized like failures, capped per run with one "N lines dropped" line, written in
// batches (a NOTIFY per batch is counted), all there once the run has ended, and pruned with it.

const CAPS = { maxLines: 50, maxBytes: 4096 };

const retried = defineOperation({
  type: 'test.logged_retry',
  label: 'Logged retry',
  scope: 'tenant',
  input: z.object({ tag: z.string() }),
  identity: (i) => i,
  lifecycle: { retries: 1 },
  async run(ctx) {
    for (let i = 1; i <= 3; i++) ctx.log.info(`attempt ${ctx.attempt} line ${i}`, { i });
    if (ctx.attempt === 1) {
      ctx.log.error('giving up on this attempt');
      throw new Error('first attempt fails');
    }
    return { outcome: 'succeeded' };
  },
});

const chatty = defineOperation({
  type: 'test.logged_chatty',
  label: 'Logged chatty',
  scope: 'tenant',
  input: z.object({ lines: z.number(), size: z.number() }),
  identity: (i) => i,
  lifecycle: { retries: 0 },
  async run(ctx, input) {
    const pad = 'x'.repeat(input.size);
    for (let i = 1; i <= input.lines; i++) ctx.log.debug(`line ${i} ${pad}`);
    return { outcome: 'succeeded' };
  },
});

const leaky = defineOperation({
  type: 'test.logged_leaky',
  label: 'Logged leaky',
  scope: 'tenant',
  input: z.object({}),
  identity: () => ({}),
  lifecycle: { retries: 0 },
  async run(ctx) {
    ctx.log.warn(
      'calling https://svc:hunter2@api.example.com with Bearer abcdefghijklmnop for jane.doe@example.com password=swordfish',
      {
        apiKey: 'sk_live_abcdefghijklmnopqrstu',
        contact: 'mail jane.doe@example.com',
        nested: { token: 'plain-value', note: 'Authorization: Bearer zyxwvutsrqponmlk' },
        list: ['ghp_abcdefghijklmnopqrstuvwxyz0123', 42, true],
        count: 3,
      },
    );
    return { outcome: 'succeeded' };
  },
});

let t: TestDatabase;
let scope: Scope;
let runs: RunService;
let worker: Awaited<ReturnType<typeof runTestWorker>>;
let listener: pg.Client;
const batches = new Map<string, number>();
const registry = registryOf(retried, chatty, leaky);

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  runs = new RunService({ db: t.db });
  listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  listener.on('notification', (message) => {
    const { id } = JSON.parse(message.payload ?? '{}') as { id: string };
    batches.set(id, (batches.get(id) ?? 0) + 1);
  });
  await listener.query(`listen ${RUN_LOG_CHANNEL}`);
  worker = await runTestWorker(t, registry, { runs, runLogCaps: CAPS });
});
afterAll(async () => {
  await worker?.close();
  await listener?.end();
});

async function runToEnd(type: string, input: Record<string, unknown>): Promise<RunRow> {
  const { run } = await startRun(
    { db: t.db, runs, registry },
    {
      type,
      workspaceId: scope.workspaceId,
      tenantId: scope.tenantId,
      input,
      initiatorUserId: scope.userId,
    },
  );
  return await until(
    async () => {
      const row = await runs.get(run.id);
      return row?.status === 'completed' ? row : undefined;
    },
    { within: 30_000, what: `the ${type} run to complete` },
  );
}

const linesOf = (runId: string) =>
  t.db
    .selectFrom('run_log_lines')
    .select(['seq', 'attempt', 'level', 'message', 'fields'])
    .where('run_id', '=', runId)
    .orderBy('seq')
    .execute();

describe('ctx.log', () => {
  it('stores every line in order with its attempt, across a retry, before the run ends', async () => {
    const run = await runToEnd('test.logged_retry', { tag: 'a' });
    expect(run.outcome).toBe('succeeded');
    // Read at once: the last batch is written before the completion.
    const lines = await linesOf(run.id);
    expect(lines.map((l) => [l.attempt, l.level, l.message])).toEqual([
      [1, 'info', 'attempt 1 line 1'],
      [1, 'info', 'attempt 1 line 2'],
      [1, 'info', 'attempt 1 line 3'],
      [1, 'error', 'giving up on this attempt'],
      [2, 'info', 'attempt 2 line 1'],
      [2, 'info', 'attempt 2 line 2'],
      [2, 'info', 'attempt 2 line 3'],
    ]);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(lines[0]?.fields).toEqual({ i: 1 });
    expect(lines[3]?.fields).toBeNull();
  });

  it('keeps at most the cap of lines, then one line counting what was dropped', async () => {
    const run = await runToEnd('test.logged_chatty', { lines: 1000, size: 0 });
    const lines = await linesOf(run.id);
    expect(lines).toHaveLength(CAPS.maxLines + 1);
    expect(lines.slice(0, CAPS.maxLines).map((l) => l.message)).toEqual(
      Array.from({ length: CAPS.maxLines }, (_, i) => `line ${i + 1} `.trim()),
    );
    const last = lines.at(-1);
    expect(last).toMatchObject({ level: 'warn', fields: { dropped: 1000 - CAPS.maxLines } });
    expect(last?.message).toMatch(
      /^950 lines dropped: a run keeps at most 50 log lines and 4 KiB$/,
    );
    // Batched like progress: 1,000 lines in a tight loop are a handful of writes, not 1,000.
    expect(batches.get(run.id)).toBeGreaterThanOrEqual(1);
    expect(batches.get(run.id)).toBeLessThanOrEqual(5);
  });

  it('caps bytes too: lines past 4 KiB are dropped and counted', async () => {
    const run = await runToEnd('test.logged_chatty', { lines: 20, size: 1000 });
    const lines = await linesOf(run.id);
    const kept = lines.filter((l) => l.fields?.dropped === undefined);
    expect(kept.length).toBe(4); // each line is a little over 1,000 bytes
    expect(lines.at(-1)).toMatchObject({ level: 'warn', fields: { dropped: 16 } });
    const head = await t.db
      .selectFrom('run_logs')
      .selectAll()
      .where('run_id', '=', run.id)
      .executeTakeFirstOrThrow();
    expect(head.bytes).toBeLessThanOrEqual(CAPS.maxBytes);
    expect(Number(head.dropped)).toBe(16);
  });

  it('redacts tokens, secrets and emails in the message and the fields', async () => {
    const run = await runToEnd('test.logged_leaky', {});
    const [line] = await linesOf(run.id);
    const stored = JSON.stringify(line);
    for (const secret of [
      'hunter2',
      'abcdefghijklmnop',
      'jane.doe@example.com',
      'swordfish',
      'sk_live_abcdefghijklmnopqrstu',
      'plain-value',
      'zyxwvutsrqponmlk',
      'ghp_abcdefghijklmnopqrstuvwxyz0123',
    ])
      expect(stored).not.toContain(secret);
    expect(line?.message).toContain('https://svc:[redacted]@api.example.com');
    expect(line?.message).toContain('[email]');
    expect(line?.fields).toMatchObject({
      apiKey: '[redacted]',
      contact: 'mail [email]',
      nested: { token: '[redacted]' },
      list: ['[redacted-key]', 42, true],
      count: 3,
    });
  });

  it('goes with its run when the run is pruned', async () => {
    const run = await runToEnd('test.logged_retry', { tag: 'pruned' });
    expect((await linesOf(run.id)).length).toBeGreaterThan(0);
    const report = await prune(t.db, {
      retentionDays: 1,
      now: new Date(Date.now() + 2 * 24 * 3600 * 1000),
    });
    expect(report.deleted).toBeGreaterThan(0);
    expect(await linesOf(run.id)).toEqual([]);
    const heads = await t.db.selectFrom('run_logs').select('run_id').execute();
    expect(heads).toEqual([]);
  });
});
