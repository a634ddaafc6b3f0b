import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import type { Db } from '../../src/db/pool.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { freshDatabase } from '../support/db.js';

// An empty database (not the pre-migrated template) to watch migrations from scratch.
let db: Db;
beforeAll(async () => {
  db = (await freshDatabase({ empty: true, max: 4 })).db;
});

describe('migrations', () => {
  it('apply once, then are a no-op, also when two run at once', async () => {
    const first = await migrateToLatest(db);
    expect(first.applied).toEqual(Object.keys(migrations));
    expect(first.applied.slice(0, 6)).toEqual([
      '0001_initial',
      '0002_completed_index',
      '0003_access_and_push',
      '0004_summary_index',
      '0005_run_autovacuum',
      '0006_worker_slots',
    ]);
    const [again, concurrent] = await Promise.all([migrateToLatest(db), migrateToLatest(db)]);
    expect(again.applied).toEqual([]);
    expect(concurrent.applied).toEqual([]);
  });

  it('create every table of the design', async () => {
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
      db,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'audit_log',
        'memberships',
        'notifications',
        'operation_runs',
        'run_events',
        'tenants',
        'users',
        'workers',
        'workspaces',
      ]),
    );
  });

  it('create the partial unique dedupe index, the list index and the partial active index', async () => {
    const indexes = await sql<{ indexname: string; indexdef: string }>`
      select indexname, indexdef from pg_indexes where tablename = 'operation_runs'`.execute(db);
    const byName = Object.fromEntries(indexes.rows.map((r) => [r.indexname, r.indexdef]));
    expect(byName.operation_runs_active_identity_key).toMatch(
      /CREATE UNIQUE INDEX .* \(workspace_id, COALESCE\(tenant_id, .*\), type, identity_hash\) WHERE \(status = ANY \(ARRAY\['queued'::text, 'running'::text\]\)\)/,
    );
    expect(byName.operation_runs_list_idx).toMatch(/\(workspace_id, created_at DESC, id DESC\)/);
    expect(byName.operation_runs_active_idx).toMatch(/WHERE \(status = ANY/);
  });

  it('let the database itself refuse malformed counts and outcome/status mismatches', async () => {
    const ws = uuidv7();
    await db
      .insertInto('workspaces')
      .values({ id: ws, slug: `w${ws.slice(-8)}`, name: 'W' })
      .execute();
    const row = {
      workspace_id: ws,
      tenant_id: null,
      type: 't',
      identity_hash: 'h',
      initiator_user_id: null,
    };
    const now = new Date();
    const insert = (extra: Record<string, unknown>) =>
      db
        .insertInto('operation_runs')
        .values({ id: uuidv7(), created_at: now, updated_at: now, ...row, ...extra })
        .execute();
    await expect(insert({ summary_counts: '{"items": -1}' })).rejects.toThrow(
      /operation_runs_counts_check/,
    );
    await expect(insert({ summary_counts: '{"items": 1.5}' })).rejects.toThrow(
      /operation_runs_counts_check/,
    );
    await expect(insert({ summary_counts: '{"Items": 1}' })).rejects.toThrow(
      /operation_runs_counts_check/,
    );
    await expect(insert({ summary_counts: '[1]' })).rejects.toThrow(/operation_runs_counts_check/);
    await expect(insert({ status: 'completed' })).rejects.toThrow(
      /operation_runs_outcome_matches_status/,
    );
    await expect(insert({ outcome: 'succeeded' })).rejects.toThrow(
      /operation_runs_outcome_matches_status/,
    );
    await expect(insert({ status: 'stuck' })).rejects.toThrow(/operation_runs_status_check/);
    await insert({ summary_counts: '{"items": 9007199254740991}' });
  });
});
