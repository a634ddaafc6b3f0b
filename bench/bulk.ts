import { cpus, loadavg } from 'node:os';
import { sql } from 'kysely';
import pino from 'pino';
import { registerBuiltins } from '../src/execution/bulk-action.js';
import { createRunwarden } from '../src/runwarden.js';
import { PLAIN } from './fleet-catalog.js';
import { type FleetFixture, fleetFixture } from './fleet-fixture.js';
import { fmt, progress } from './support.js';

const RUNS = Number(process.env.BENCH_BULK_RUNS ?? 50_000);
const CONCURRENCY = Number(process.env.BENCH_BULK_CONCURRENCY ?? 2);
/** BENCH_STATEMENTS=1: pg_stat_statements (nested statements too) over the bulk cancel. */
const STATEMENTS = process.env.BENCH_STATEMENTS === '1';
const TARGET_MS = 60_000;
/** What the raw baseline acts on per transaction: the bulk action's own batch. */
const BATCH = 500;
const DEADLINE_MS = 10 * 60_000;

/**
 * Bulk cancel at scale (DESIGN §18, issue 23 point 2): 50,000 queued runs of one workspace, each
 * with its graphile-worker job (keyed by run id, as a start makes it), cancelled by
 * `POST /api/workspaces/:ws/bulk-actions` over HTTP and the tracked `runwarden.bulk_action` run a
 * real worker executes; timed from the POST to that run's completion, then checked (every run
 * cancelled, every job gone). Beside it the preview's (dryRun) latency, and last the statements
 * underneath without Runwarden's events and audits, in batches of 500, as the ratio's baseline.
 */
export async function main(): Promise<void> {
  const f = await fleetFixture({ active: 10, inactive: 0, statements: STATEMENTS });
  // The app's registry carries Runwarden's own types, as the CLI's runtime gives it them.
  registerBuiltins({ db: f.db, runs: f.runs, registry: f.registry });
  // A worker that runs only Runwarden's own types: the seeded backlog stays queued under it.
  const own = createRunwarden({
    databaseUrl: f.url,
    operations: [],
    logger: pino({ level: 'silent' }),
  });
  const worker = await own.worker({ concurrency: CONCURRENCY, reconcileIntervalSeconds: 3_600 });
  const figures: string[] = [];
  const load = () => `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`;
  figures.push(`machine at the start: ${load()}`);
  try {
    const bulk = await bulkCancel(f, figures);
    const raw = await rawCancel(f);
    figures.push(
      `raw: keyset select + update operation_runs … where id = any($ids) + graphile_worker.remove_job per key (unnest), ${BATCH} per transaction, no events/audits: ${fmt(raw)} ms, ${fmt(RUNS / (raw / 1000))} runs/s`,
    );
    figures.push(`machine at the end: ${load()}`);
    figures.push(
      `  ratio: bulk action ×${(bulk / raw).toFixed(1)} the raw statements (${fmt(bulk)} ms vs ${fmt(raw)} ms for ${fmt(RUNS)} runs)`,
    );
  } finally {
    await worker.stop();
    await own.close();
    await f.close();
  }
  for (const line of figures) console.log(line);
}

/** The bulk cancel over HTTP, end to end; its milliseconds. */
async function bulkCancel(f: FleetFixture, figures: string[]): Promise<number> {
  const tag = 'bulk';
  const seedMs = await seedQueued(f, tag);
  progress(`seeded ${fmt(RUNS)} queued runs and their jobs in ${fmt(seedMs)} ms`);
  const filter = { type: PLAIN, bucket: 'active' };
  const post = async (dryRun: boolean) => {
    const res = await fetch(`${f.base}/api/workspaces/contoso/bulk-actions`, {
      method: 'POST',
      headers: {
        cookie: f.cookie,
        'x-csrf-token': f.csrfToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ action: 'cancel', filter, dryRun }),
    });
    const body = (await res.json()) as { count: number; run?: { id: string } };
    if (res.status !== (dryRun ? 200 : 202))
      throw new Error(`POST bulk-actions: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };

  // The preview: a count over the filter (a warm-up, then timed ones).
  const previews: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const { count } = await post(true);
    if (i > 0) previews.push(performance.now() - t0);
    if (count !== RUNS) throw new Error(`dryRun counted ${count}, not ${RUNS}`);
  }
  previews.sort((a, b) => a - b);

  if (STATEMENTS) await f.pool.query('select pg_stat_statements_reset()');
  const t0 = performance.now();
  const started = await post(false);
  const postMs = performance.now() - t0;
  const id = started.run?.id ?? '';
  let firstProgressMs: number | undefined;
  let run: RunView | undefined;
  let polls = 0;
  for (;;) {
    const res = await fetch(`${f.base}/api/operations/${id}`, { headers: { cookie: f.cookie } });
    polls += 1;
    run = (await res.json()) as RunView;
    if (firstProgressMs === undefined && (run.progress?.processed ?? 0) > 0)
      firstProgressMs = performance.now() - t0;
    if (run.status === 'completed') break;
    if (performance.now() - t0 > DEADLINE_MS) throw new Error(`bulk action still ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ms = performance.now() - t0;
  if (STATEMENTS) await serverStatements(f);
  const { cancelled, jobs } = await check(f, tag);
  progress(`bulk run ${id}: ${run.outcome} ${JSON.stringify(run.summaryCounts)}; ${polls} polls`);
  if (cancelled !== RUNS || jobs !== 0)
    throw new Error(`after the bulk cancel: ${cancelled} cancelled, ${jobs} jobs left`);
  const events = await sql<{ n: string }>`select count(*) as n from run_events`.execute(f.db);
  const audits = await sql<{
    n: string;
  }>`select count(*) as n from audit_log where action = 'run.cancel'`.execute(f.db);
  figures.push(
    `bulk cancel preview (dryRun) of ${fmt(RUNS)} queued runs, POST over HTTP: p50 ${previews[2]?.toFixed(1)} ms, max ${previews.at(-1)?.toFixed(1)} ms over ${previews.length}`,
    `bulk cancel of ${fmt(RUNS)} queued runs (each with its job), POST bulk-actions → runwarden.bulk_action completed, worker in-process x ${CONCURRENCY}: ${fmt(ms)} ms, ${fmt(RUNS / (ms / 1000))} runs/s (target ≤ ${fmt(TARGET_MS)} ms)${ms <= TARGET_MS ? '' : ' MISSED'}`,
    `  POST answered in ${fmt(postMs)} ms, first progress seen at ${fmt(firstProgressMs ?? 0)} ms; outcome ${run.outcome}; ${fmt(cancelled)} runs cancelled, ${fmt(jobs)} of their jobs left; ${fmt(Number(events.rows[0]?.n))} run events, ${fmt(Number(audits.rows[0]?.n))} run.cancel audits written`,
  );
  return ms;
}

interface RunView {
  status: string;
  outcome: string;
  progress: { processed: number; total: number | null } | null;
  summaryCounts: Record<string, number>;
}

/**
 * RUNS queued runs of `PLAIN` in contoso over its tenants (created over the last minute, input
 * tagged with `tag` so identities differ) and one job each, keyed by run id, in one add_jobs call.
 */
async function seedQueued(f: FleetFixture, tag: string): Promise<number> {
  const t0 = performance.now();
  const tenants = (
    await f.db
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', f.workspaceId)
      .execute()
  ).map((t) => t.id);
  const task = f.registry.get(PLAIN)?.taskIdentifier ?? '';
  await sql`alter table operation_runs disable trigger operation_runs_notify_insert`.execute(f.db);
  try {
    await sql`
      with runs as (
        insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome,
          identity_hash, input, attempt, created_at, updated_at)
        select gen_random_uuid(), ${f.workspaceId}::uuid,
               (${tenants}::uuid[])[1 + g % ${tenants.length}::int], ${PLAIN}, 'queued', 'pending',
               md5(${tag} || g), jsonb_build_object('minMs', 50, 'maxMs', 200, 'tag', ${tag} || g), 0,
               t.at, t.at
        from generate_series(1, ${RUNS}::int) g,
             lateral (select date_trunc('milliseconds', now() - interval '1 minute'
               + make_interval(secs => g * 60.0 / ${RUNS}::int)) as at) t
        returning id)
      select count(*) from graphile_worker.add_jobs(array(
        select row(${task}::text, json_build_object('runId', id), null, null, 1, id::text, 0,
                   null)::graphile_worker.job_spec
        from runs))`.execute(f.db);
  } finally {
    await sql`alter table operation_runs enable trigger operation_runs_notify_insert`.execute(f.db);
  }
  await sql`analyze operation_runs`.execute(f.db);
  const jobs = await sql<{ n: string }>`select count(*) as n from graphile_worker._private_jobs
    where key in (select id::text from operation_runs where input->>'tag' like ${`${tag}%`})`.execute(
    f.db,
  );
  if (Number(jobs.rows[0]?.n) !== RUNS) throw new Error(`seeded ${jobs.rows[0]?.n} jobs`);
  return performance.now() - t0;
}

/** How many of the runs seeded with `tag` are cancelled, and how many of their jobs are left. */
async function check(f: FleetFixture, tag: string) {
  const { rows } = await sql<{ cancelled: string; jobs: string }>`
    select count(*) filter (where r.status = 'completed' and r.outcome = 'cancelled') as cancelled,
           count(j.id) as jobs
    from operation_runs r left join graphile_worker._private_jobs j on j.key = r.id::text
    where r.type = ${PLAIN} and r.input->>'tag' like ${`${tag}%`}`.execute(f.db);
  return { cancelled: Number(rows[0]?.cancelled), jobs: Number(rows[0]?.jobs) };
}

/**
 * The baseline: the statements underneath a bulk cancel, bare. In id order, BATCH at a time, each
 * in its own transaction: the next batch by keyset, the runs' compare-and-set, their jobs removed.
 */
async function rawCancel(f: FleetFixture): Promise<number> {
  const tag = 'raw';
  await seedQueued(f, tag);
  const t0 = performance.now();
  const client = await f.pool.connect();
  try {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await client.query<{ id: string }>(
        `select id from operation_runs where workspace_id = $1 and type = $2 and status = 'queued'
           and id > $3 order by id limit ${BATCH}`,
        [f.workspaceId, PLAIN, after],
      );
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      after = ids.at(-1) ?? after;
      await client.query('begin');
      await client.query(
        `update operation_runs set status = 'completed', outcome = 'cancelled', worker_id = null,
           completed_at = now(), updated_at = now()
         where id = any($1::uuid[]) and status = 'queued'`,
        [ids],
      );
      await client.query('select graphile_worker.remove_job(key) from unnest($1::text[]) as key', [
        ids,
      ]);
      await client.query('commit');
    }
  } finally {
    client.release();
  }
  const ms = performance.now() - t0;
  const { cancelled, jobs } = await check(f, tag);
  if (cancelled !== RUNS || jobs !== 0)
    throw new Error(`after the raw cancel: ${cancelled} cancelled, ${jobs} jobs left`);
  return ms;
}

/** The server's side of the bulk cancel: statements by total time, nested ones included. */
async function serverStatements(f: FleetFixture): Promise<void> {
  const { rows } = await f.pool.query<{ query: string; calls: string; exec: number }>(
    `select query, calls, total_exec_time as exec from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database())
       and query not like '%pg_stat%' order by total_exec_time desc limit 15`,
  );
  progress('during the bulk cancel, on the server (pg_stat_statements, nested included):');
  for (const r of rows)
    progress(
      `  ${fmt(Number(r.calls))}× ${(r.exec / Number(r.calls)).toFixed(3)} ms = ${fmt(r.exec)} ms: ${r.query.replace(/\s+/g, ' ').slice(0, 170)}`,
    );
}
