import { type Kysely, sql } from 'kysely';
import type { Database } from '../src/db/schema.js';
import { foldRollups } from '../src/insights/rollups.js';
import type { Kind } from './api-search.js';
import { fmt, progress } from './support.js';

/** DESIGN §18: `GET /api/workspaces/:ws/charts` p95 ≤ 50 ms at 1,000,000 runs. */
export const CHART_TARGET_MS = 50;

interface Chart {
  from: string;
  to: string;
  buckets: Array<{ finished: Record<string, number> }>;
}

/**
 * The charts as request kinds, after the rollups are folded from the seeded history (timed: what
 * a worker's minute task does to a backlog). The 30-day chart is checked against a direct count
 * over the runs, so the timings are of real answers.
 */
export async function chartKinds(
  db: Kysely<Database>,
  get: <T>(path: string) => Promise<T>,
  options: { requests: number },
): Promise<Kind[]> {
  const started = performance.now();
  const report = await foldRollups(db);
  const seconds = (performance.now() - started) / 1000;
  progress(
    `folded ${fmt(report.folded)} ended runs into rollups in ${seconds.toFixed(1)} s (${fmt(report.folded / seconds)} runs/s); ${fmt(report.coarsened)} minute rows became hours`,
  );
  const rows = await db
    .selectFrom('run_rollups')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  progress(`${fmt(Number(rows.n))} rollup rows`);
  const base = '/api/workspaces/contoso/charts';
  const month = await get<Chart>(`${base}?range=30d`);
  const shown = month.buckets.reduce(
    (n, b) => n + Object.values(b.finished).reduce((a, c) => a + c, 0),
    0,
  );
  const { rows: direct } = await sql<{ n: string }>`select count(*) as n from operation_runs r
    join workspaces w on w.id = r.workspace_id and w.slug = 'contoso'
    where r.status = 'completed' and r.parent_id is null
      and r.completed_at >= ${month.from} and r.completed_at < ${month.to}`.execute(db);
  if (shown !== Number(direct[0]?.n))
    throw new Error(`the 30-day chart shows ${shown} runs, the runs say ${direct[0]?.n}`);
  progress(`30-day chart: ${fmt(shown)} runs ended, as a direct count says`);
  const tenant = await sql<{ id: string }>`select t.id from tenants t
    join workspaces w on w.id = t.workspace_id and w.slug = 'contoso' order by t.slug limit 1`.execute(
    db,
  );
  const kinds: Kind[] = ['1h', '24h', '7d', '30d'].map((range) => ({
    label: `charts ${range}`,
    path: `${base}?range=${range}`,
    target: CHART_TARGET_MS,
    requests: options.requests,
  }));
  kinds.push({
    label: 'charts 30d, one tenant',
    path: `${base}?range=30d&tenantId=${tenant.rows[0]?.id}`,
    target: CHART_TARGET_MS,
    requests: options.requests,
  });
  return kinds;
}
