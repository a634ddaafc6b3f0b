import { EventEmitter } from 'node:events';
import { run as runQueue, type WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import { createPool } from '../src/db/pool.js';
import { graphileLogger } from '../src/execution/graphile-logger.js';
import { benchProgress, PROGRESS_REPORTS } from './bench-operations.js';
import { profiled } from './cpu-profile.js';
import { type PhaseProfile, Profiler, profileTable } from './profile.js';
import { queueFixture } from './queue-fixture.js';
import { fmt, progress } from './support.js';
import { drainWithProcesses } from './worker-processes.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/**
 * The process modes: how many worker processes share CONCURRENCY (each runs CONCURRENCY / n).
 * One process at the default concurrency is what a deployment runs; two show the cost of
 * scaling out on one machine. `0` skips them.
 */
const PROCESSES = (process.env.BENCH_PROCESSES ?? '1,2')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
for (const n of PROCESSES)
  if (CONCURRENCY % n !== 0)
    throw new Error(
      `BENCH_PROCESSES: ${n} processes cannot share concurrency ${CONCURRENCY} evenly`,
    );

type Fixture = Awaited<ReturnType<typeof queueFixture>>;

/**
 * Drain rate on one database with the same concurrency (DESIGN §14): raw graphile-worker no-op
 * jobs/s, then Runwarden tracked runs/s — `demo.sleep {seconds: 0}` in-process, a progress-heavy
 * variant (PROGRESS_REPORTS `ctx.progress` calls per run), and through real `runwarden worker`
 * processes — each with its per-unit profile (statements, commits, WAL, rows, CPU).
 */
export async function main(): Promise<void> {
  const f = await queueFixture('throughput', { statements: true, operations: [benchProgress] });
  const profiler = await Profiler.open(f.url, f.postmasterPid);
  if (!profiler.statements) progress('pg_stat_statements is not loaded: no statement counts');
  const phases: PhaseProfile[] = [];
  if (process.env.BENCH_NO_NOTIFY === '1') {
    // Experiment only: what the run-change NOTIFY trigger costs the hot path.
    await sql`alter table operation_runs disable trigger operation_runs_notify_update`.execute(
      f.db,
    );
    progress('BENCH_NO_NOTIFY=1: the run-change NOTIFY trigger is disabled (an experiment)');
  }
  try {
    phases.push(await rawPhase(f, profiler));
    phases.push(
      await trackedPhase(f, profiler, 'tracked', 'demo.sleep', (i) => ({
        seconds: 0,
        tag: `p${i}`,
      })),
    );
    phases.push(
      await trackedPhase(f, profiler, 'progress x20', 'bench.progress', (i) => ({ tag: `g${i}` })),
    );
    const processModes: PhaseProfile[] = [];
    for (const n of PROCESSES) processModes.push(await processPhase(f, profiler, n));
    phases.push(...processModes);
    // The machine's load drifts: raw again at the end, and the ratios use the mean of both.
    const rawAgain = await rawPhase(f, profiler);

    const [first, tracked, heavy] = phases as [PhaseProfile, PhaseProfile, PhaseProfile];
    const rate = (p: PhaseProfile) => p.units / p.seconds;
    const rawRate = (rate(first) + rate(rawAgain)) / 2;
    const raw = { ...first, seconds: first.units / rawRate };
    console.log(profileTable(phases));
    console.log(
      `raw graphile-worker no-op: ${fmt(rawRate)} jobs/s (${fmt(JOBS)} jobs, concurrency ${CONCURRENCY}; first ${fmt(rate(first))}, last ${fmt(rate(rawAgain))})`,
    );
    console.log(
      `runwarden demo.sleep 0, in-process: ${fmt(rate(tracked))} runs/s (target >= 1,500)`,
    );
    console.log(
      `runwarden ${PROGRESS_REPORTS} progress reports per run, in-process: ${fmt(rate(heavy))} runs/s; ratio progress/plain ${(rate(heavy) / rate(tracked)).toFixed(2)} (target >= 0.7)`,
    );
    for (const [i, n] of PROCESSES.entries()) {
      const processes = processModes[i] as PhaseProfile;
      console.log(
        `runwarden demo.sleep 0, ${n} worker process${n > 1 ? 'es' : ''} x ${CONCURRENCY / n}: ${fmt(rate(processes))} runs/s; ratio processes/raw ${(rate(processes) / rate(raw)).toFixed(2)} (target >= 0.5)`,
      );
    }
    console.log(
      `ratio runwarden/raw, in-process: ${(rate(tracked) / rate(raw)).toFixed(2)} (target >= 0.5, compass 0.8)`,
    );
  } finally {
    await profiler.close();
    await f.close();
  }
}

async function rawPhase(f: Fixture, profiler: Profiler): Promise<PhaseProfile> {
  progress(`queueing ${fmt(JOBS)} raw no-op jobs…`);
  await sql`select graphile_worker.add_jobs(array(
    select json_populate_record(null::graphile_worker.job_spec, json_build_object('identifier', 'noop', 'payload', '{}'::json))
    from generate_series(1, ${JOBS})))`.execute(f.db);
  await f.reopen();
  const mark = await profiler.begin();
  const rawPool = createPool(f.url, { max: CONCURRENCY + 2 });
  const events: WorkerEvents = new EventEmitter();
  let rawDone = 0;
  const rawFinished = new Promise<void>((resolve) =>
    events.on('job:complete', () => {
      rawDone += 1;
      if (rawDone === JOBS) resolve();
    }),
  );
  const rawStart = performance.now();
  const raw = await runQueue({
    pgPool: rawPool,
    events,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: { noop: async () => undefined },
    logger: graphileLogger(f.logger),
  });
  const seconds = await profiled('raw', async () => {
    await rawFinished;
    return (performance.now() - rawStart) / 1000;
  });
  await raw.stop();
  await rawPool.end();
  progress(`raw graphile-worker: ${fmt(JOBS / seconds)} jobs/s`);
  return await profiler.end(mark, 'raw', JOBS, { seconds });
}

async function startMany(f: Fixture, type: string, input: (i: number) => Record<string, unknown>) {
  progress(`starting ${fmt(JOBS)} ${type} runs (not timed)…`);
  for (let i = 0; i < JOBS; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, JOBS - i) }, (_, k) => f.start(type, input(i + k))),
    );
  await f.reopen();
}

/** Polls until no run is active; returns how many polls it took (each is one transaction). */
async function drained(f: Fixture): Promise<number> {
  for (let polls = 1; ; polls++) {
    // Over the active runs' partial index: the probe must not cost PostgreSQL more as history grows.
    const left = await sql<{ n: number }>`/* bench-probe */ select count(*)::int as n
      from operation_runs where status in ('queued', 'running')`.execute(f.db);
    if (left.rows[0]?.n === 0) return polls;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function trackedPhase(
  f: Fixture,
  profiler: Profiler,
  label: string,
  type: string,
  input: (i: number) => Record<string, unknown>,
): Promise<PhaseProfile> {
  await startMany(f, type, input);
  const mark = await profiler.begin();
  const started = performance.now();
  const { polls, seconds } = await profiled(label, async () => {
    const worker = await f.startWorker({ concurrency: CONCURRENCY });
    const polls = await drained(f);
    const seconds = (performance.now() - started) / 1000;
    await worker.stop();
    return { polls, seconds };
  });
  await f.reopen();
  progress(`runwarden ${label}: ${fmt(JOBS / seconds)} runs/s`);
  return await profiler.end(mark, label, JOBS, { seconds, extraCommits: polls });
}

async function processPhase(f: Fixture, profiler: Profiler, count: number): Promise<PhaseProfile> {
  const tag = `w${count}-`;
  await startMany(f, 'demo.sleep', (i) => ({ seconds: 0, tag: `${tag}${i}` }));
  const mark = await profiler.begin();
  const drain = await drainWithProcesses(f.url, {
    processes: count,
    concurrency: CONCURRENCY / count,
    drained: () => drained(f),
  });
  // From the first pickup to the last completion: the processes' start-up is not counted.
  const span = await sql<{ seconds: number }>`/* bench-probe */ select
      extract(epoch from max(completed_at) - min(started_at))::float8 as seconds
    from operation_runs where type = 'demo.sleep' and input->>'tag' like ${`${tag}%`}`.execute(
    f.db,
  );
  const seconds = span.rows[0]?.seconds ?? Number.NaN;
  await f.reopen();
  progress(`runwarden ${count} worker process(es): ${fmt(JOBS / seconds)} runs/s`);
  return await profiler.end(mark, `${count}x${CONCURRENCY / count} procs`, JOBS, {
    seconds,
    extraCommits: drain.polls + 1,
    extraCpuMs: drain.workerCpuMs,
    extraKernelMs: drain.workerKernelMs,
  });
}
