import { cpus, loadavg } from 'node:os';
import { explain } from './api.js';
import { FAIR, PLAIN } from './fleet-catalog.js';
import { addHistory, type FleetFixture, fleetFixture, resetFleets } from './fleet-fixture.js';
import { fleetWhileRunning } from './fleet-page.js';
import { type StartPath, startCosts, timeStart } from './fleet-start.js';
import { percentile } from './queue-fixture.js';
import { fmt, progress } from './support.js';

// Sizes (the by default; smaller through the environment on a small machine).
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ACTIVE = env('BENCH_FLEET_TENANTS', 1_000);
const INACTIVE = env('BENCH_FLEET_INACTIVE', 50);
const TRIALS = env('BENCH_FLEET_TRIALS', 5);
const HISTORY = env('BENCH_FLEET_HISTORY', 100_000);
const PROCESSES = env('BENCH_FLEET_PROCESSES', 2);
const CONCURRENCY = env('BENCH_FLEET_CONCURRENCY', 8);
const EVERY_MS = 50;
/** BENCH_STATEMENTS=1: pg_stat_statements (nested statements too) for one library start. */
const STATEMENTS = process.env.BENCH_STATEMENTS === '1';
const START_TARGET_MS = 2_000;
const PAGE_TARGET_MS = 100;
const PARENT_TARGET_MS = 1_000;
/** Which parts run (both by default): start, page. */
const PARTS = new Set((process.env.BENCH_FLEET_PARTS ?? 'start,page').split(','));

/**
 * Fleet operations at scale (DESIGN §19, issue 22 point 7): a fleet of 1,000 tenants (beside
 * inactive ones) starts in ≤ 2 s — through the library and over HTTP, for a type straight on the
 * queue and one under flow control — against graphile-worker's own `add_job` for as many jobs in
 * the same run; and its parent's page (run detail, first page of children) stays ≤ 100 ms p95
 * while real worker processes run the children, with the parent completing within 1 s of its
 * last child. Figures last.
 */
export async function main(): Promise<void> {
  const f = await fleetFixture({ active: ACTIVE, inactive: INACTIVE, statements: STATEMENTS });
  const figures: string[] = [];
  const load = () => `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`;
  figures.push(`machine at the start: ${load()}`);
  try {
    if (PARTS.has('start')) figures.push(...(await starts(f)));
    if (PARTS.has('page')) figures.push(...(await page(f)));
    figures.push(`machine at the end: ${load()}`);
  } finally {
    await f.close();
  }
  for (const line of figures) console.log(line);
}

async function starts(f: FleetFixture): Promise<string[]> {
  const paths: Array<{ label: string; path: StartPath; type: string }> = [
    { label: `library rw.startFleet, ${PLAIN} (no flow)`, path: 'library', type: PLAIN },
    { label: `HTTP POST fleet-operations, ${PLAIN}`, path: 'http', type: PLAIN },
    { label: `library rw.startFleet, ${FAIR} (flow: held, in lanes)`, path: 'library', type: FAIR },
    { label: 'raw: graphile_worker.add_job x N, one transaction', path: 'raw-each', type: PLAIN },
    { label: 'raw: graphile_worker.add_jobs batch, one statement', path: 'raw-batch', type: PLAIN },
    {
      label: 'floor: select 1 x N, one transaction (round trips)',
      path: 'round-trips',
      type: PLAIN,
    },
  ];
  const times = paths.map(() => [] as number[]);
  // A warm-up round, then the trials; each round runs every path, so drift falls on all.
  for (let round = 0; round <= TRIALS; round++) {
    const these: number[] = [];
    for (const [i, p] of paths.entries()) {
      these.push(await timeStart(f, p.path, p.type, `r${round}-${i}`, ACTIVE));
      if (round > 0) times[i]?.push(these[i] ?? 0);
    }
    progress(
      `start round ${round}${round === 0 ? ' (warm-up)' : ''}: ${these.map(fmt).join(' / ')} ms; load average ${loadavg()[0]?.toFixed(1)}`,
    );
  }
  const stats = times.map((t) => {
    const sorted = [...t].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? 0 };
  });
  const lines = paths.map((p, i) => {
    const s = stats[i] ?? { p50: 0, p95: 0, max: 0 };
    const target =
      p.path === 'library' || p.path === 'http' ? ` (target ≤ ${fmt(START_TARGET_MS)})` : '';
    return `fleet start, ${fmt(ACTIVE)} active + ${fmt(INACTIVE)} inactive tenants, ${p.label}: p50 ${fmt(s.p50)} ms, p95 ${fmt(s.p95)} ms, max ${fmt(s.max)} ms${target} over ${TRIALS} trials`;
  });

  // Where a library start's time goes, statement by statement.
  if (STATEMENTS) await f.pool.query('select pg_stat_statements_reset()');
  const costs = await startCosts(f, PLAIN, 'costs');
  if (STATEMENTS) await serverStatements(f);
  await resetFleets(f);
  const sqlMs = costs.statements.reduce((s, c) => s + c.ms, 0);
  const calls = costs.statements.reduce((s, c) => s + c.calls, 0);
  progress(
    `one library start, ${PLAIN}, statement by statement: wall ${fmt(costs.wallMs)} ms, ${fmt(calls)} statements, ${fmt(sqlMs)} ms in them (as the client sees them: round trip included)`,
  );
  for (const c of costs.statements.slice(0, 8))
    progress(
      `  ${fmt(c.calls)}× ${(c.ms / c.calls).toFixed(3)} ms = ${fmt(c.ms)} ms: ${c.sql.slice(0, 160)}`,
    );
  lines.push(
    `  of one library start (${PLAIN}): ${fmt(calls)} statements (${(calls / ACTIVE).toFixed(1)} per child), ${fmt(sqlMs)} ms of ${fmt(costs.wallMs)} ms wall in them`,
  );
  const ratio = (a: number, b: number) =>
    `×${((stats[a]?.p50 ?? 0) / (stats[b]?.p50 ?? 1)).toFixed(1)}`;
  lines.push(
    `  ratio (p50): library ${PLAIN} ${ratio(0, 3)} the raw add_job x ${fmt(ACTIVE)} in one transaction, ${ratio(0, 4)} the add_jobs batch; HTTP ${ratio(1, 0)} the library; ${FAIR} ${ratio(2, 0)} ${PLAIN}`,
  );
  return lines;
}

async function page(f: FleetFixture): Promise<string[]> {
  await resetFleets(f);
  await addHistory(f, HISTORY);
  const ordinary = await f.db
    .selectFrom('operation_runs')
    .select('id')
    .where('created_at', '<', f.mark)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const labels = [
    "parent's run detail GET /api/operations/:id",
    'its children GET /api/operations/:id/children?limit=50',
    "an ordinary (finished) run's detail, same sampler",
  ];
  progress(`fleet of ${fmt(ACTIVE)} children, ${PROCESSES} worker processes x ${CONCURRENCY}…`);
  const run = await fleetWhileRunning(f, {
    type: PLAIN,
    processes: PROCESSES,
    concurrency: CONCURRENCY,
    everyMs: EVERY_MS,
    paths: (id) => [
      `/api/operations/${id}`,
      `/api/operations/${id}/children?limit=50`,
      ...(ordinary ? [`/api/operations/${ordinary.id}`] : []),
    ],
  });
  const lines = run.times.map((t, i) => {
    const target = i < 2 ? ` (target p95 ≤ ${PAGE_TARGET_MS})` : '';
    return `  ${labels[i]}: p50 ${percentile(t, 50).toFixed(1)} ms, p95 ${percentile(t, 95).toFixed(1)} ms${target}, max ${(t.at(-1) ?? 0).toFixed(0)} ms over ${fmt(t.length)} samples`;
  });
  const p95 = (i: number) => percentile(run.times[i] ?? [], 95);
  await profilePage(f, run.parentId);
  return [
    `fleet run, ${fmt(ACTIVE)} children of 50–200 ms on ${PROCESSES} worker processes x ${CONCURRENCY}, sampled every ${EVERY_MS} ms from the start (HTTP, ${fmt(run.startMs)} ms) to the parent's completion (${run.seconds.toFixed(1)} s): parent ${run.outcome} ${JSON.stringify(run.summary)}, running ${fmt(run.parentRunningMs)} ms after its start`,
    ...lines,
    `  last child completed → parent completed: ${fmt(run.lastChildToParentMs)} ms (target ≤ ${fmt(PARENT_TARGET_MS)})`,
    `  ratio (p95): parent's detail ×${(p95(0) / p95(2)).toFixed(1)}, children page ×${(p95(1) / p95(2)).toFixed(1)} an ordinary run's detail`,
  ];
}

/** The SQL of one parent detail and one children page (the fleet over), each EXPLAINed. */
async function profilePage(f: FleetFixture, parentId: string): Promise<void> {
  for (const path of [
    `/api/operations/${parentId}`,
    `/api/operations/${parentId}/children?limit=50`,
  ]) {
    f.recorder.queries = [];
    const t0 = performance.now();
    const res = await fetch(`${f.base}${path}`, { headers: { cookie: f.cookie } });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    const queries = f.recorder.queries;
    f.recorder.queries = undefined;
    progress(`${path.replace(parentId, ':id')} alone after the fleet: ${ms.toFixed(1)} ms`);
    for (const q of queries)
      progress(`  ${q.ms.toFixed(1)} ms: ${q.sql.replace(/\s+/g, ' ').slice(0, 150)}`);
    for (const q of queries)
      if (/operation_runs|fleet_children/.test(q.sql))
        await explain(f.pool, q, process.env.BENCH_EXPLAIN === '1' || q.ms > 5);
  }
}

/** The server's side of the last start: statements by total time, nested ones included. */
async function serverStatements(f: FleetFixture): Promise<void> {
  const { rows } = await f.pool.query<{ query: string; calls: string; exec: number }>(
    `select query, calls, total_exec_time as exec from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database())
       and query not like '%pg_stat%' order by total_exec_time desc limit 12`,
  );
  progress('  on the server (pg_stat_statements, nested statements included):');
  for (const r of rows)
    progress(
      `    ${fmt(Number(r.calls))}× ${(r.exec / Number(r.calls)).toFixed(3)} ms = ${fmt(r.exec)} ms: ${r.query.replace(/\s+/g, ' ').slice(0, 150)}`,
    );
}
