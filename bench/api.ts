import { sql } from 'kysely';
import { seedDemo } from '../src/catalog/demo-seed.js';
import { buildApp } from '../src/http/app.js';
import { percentile, queueFixture } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1_000_000);
const ACTIVE = Number(process.env.BENCH_ACTIVE ?? 300);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_600);
const PASSWORD = 'bench-api-password';

/**
 * List and summary latency (DESIGN §14) over 1,000,000 runs in one workspace, 60 days of history
 * (mostly succeeded; failed, partially succeeded and reconciled ones among them; a few hundred
 * active), measured over HTTP with 8 concurrent clients of the real app.
 */
export async function main(): Promise<void> {
  const f = await queueFixture('api');
  const app = await buildApp({
    db: f.db,
    pool: f.pool,
    logger: f.logger,
    registry: f.registry,
    runs: f.runs,
    options: { webRoot: false, loginPerMinute: 1000 },
  });
  try {
    await seedDemo({ db: f.db, registry: f.registry }, { password: PASSWORD, history: false });
    const ws = await f.db
      .selectFrom('workspaces')
      .select('id')
      .where('slug', '=', 'contoso')
      .executeTakeFirstOrThrow();
    const tenants = await f.db
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', ws.id)
      .where('status', '=', 'active')
      .execute();
    const tenantArray = sql.raw(`array[${tenants.map((t) => `'${t.id}'::uuid`).join(',')}]`);
    const t0 = performance.now();
    // Seeding is history, not news: the change trigger would only fill the NOTIFY queue.
    await sql`alter table operation_runs disable trigger operation_runs_notify_insert`.execute(
      f.db,
    );
    for (let start = 0; start < RUNS; start += 100_000) {
      const end = Math.min(RUNS, start + 100_000);
      await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash,
          created_at, updated_at, started_at, completed_at, summary_counts, failures, reconciliation, attempt)
        select gen_random_uuid(), ${ws.id}, (${tenantArray})[1 + g % ${tenants.length}],
               (array['inventory.sync','policy.sync','baseline.compare','drift.generate'])[1 + g % 4],
               'completed',
               case when g % 200 = 0 or g % 50 = 0 then 'failed' when g % 97 = 0 then 'partially_succeeded' else 'succeeded' end,
               md5(g::text), ts, ts, ts, ts + interval '2 minutes', '{"items": 10}',
               case when g % 50 = 0 or g % 97 = 0 or g % 200 = 0 then '[{"code":"handler.error","message":"upstream 503"}]'::jsonb else '[]'::jsonb end,
               case when g % 200 = 0 then jsonb_build_object('reasonCode', 'run.heartbeat_lost', 'detectedAt', ts,
                 'thresholdSeconds', 15, 'lastHeartbeatAt', ts, 'evidence', '{}'::jsonb, 'source', 'reconciler') end,
               1
        from generate_series(${start + 1}::int, ${end}::int) g,
             lateral (select date_trunc('milliseconds', now() - make_interval(secs => g * ${(60 * 86_400) / RUNS}::float8)) as ts) t`.execute(
        f.db,
      );
      progress(`seeded ${fmt(end)} / ${fmt(RUNS)} runs`);
    }
    await sql`insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash,
        created_at, updated_at, started_at, last_heartbeat_at, attempt)
      select gen_random_uuid(), ${ws.id}, (${tenantArray})[1 + g % ${tenants.length}], 'inventory.sync',
             case when g % 2 = 0 then 'running' else 'queued' end, 'pending', md5('active' || g),
             date_trunc('milliseconds', now() - make_interval(secs => g)), now(),
             case when g % 2 = 0 then now() end, case when g % 2 = 0 then now() end, g % 2
      from generate_series(1, ${ACTIVE}::int) g`.execute(f.db);
    await sql`alter table operation_runs enable trigger operation_runs_notify_insert`.execute(f.db);
    await sql`vacuum analyze operation_runs`.execute(f.db);
    progress(
      `seeded ${fmt(RUNS)} terminal + ${ACTIVE} active runs in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );

    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@demo.test', password: PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { cookie } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { nextCursor?: string | null };
    };
    const first = await get('/api/workspaces/contoso/operations?limit=50');
    const cursor = encodeURIComponent(first.nextCursor ?? '');

    const kinds: Array<[string, string, number?]> = [
      ['list (all, 50 rows)', '/api/workspaces/contoso/operations?limit=50', 25],
      ['list page 2 (cursor)', `/api/workspaces/contoso/operations?limit=50&cursor=${cursor}`, 25],
      [
        'list needs follow-up',
        '/api/workspaces/contoso/operations?limit=50&bucket=terminal_follow_up',
        25,
      ],
      ['list active', '/api/workspaces/contoso/operations?limit=50&bucket=active', 25],
      ['summary', '/api/workspaces/contoso/operations/summary', 50],
      ['bucket counts', '/api/workspaces/contoso/operations/counts'],
    ];
    const results: string[] = [];
    const p95s: Record<string, number> = {};
    for (const [label, path, target] of kinds) {
      for (let i = 0; i < 20; i++) await get(path); // warm up
      const times: number[] = [];
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let i = 0; i < REQUESTS / CLIENTS; i++) {
            const s = performance.now();
            await get(path);
            times.push(performance.now() - s);
          }
        }),
      );
      times.sort((a, b) => a - b);
      p95s[label] = percentile(times, 95);
      const line = `${label}: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms${target ? ` (target ≤ ${target} ms)` : ''}`;
      results.push(line);
      progress(line);
    }
    console.log(
      `api: list p95 ${p95s['list (all, 50 rows)']?.toFixed(1)} ms (target ≤ 25), summary p95 ${p95s.summary?.toFixed(1)} ms (target ≤ 50) — ${fmt(RUNS)} runs, ${CLIENTS} clients`,
    );
  } finally {
    await app.close();
    await f.close();
  }
}
