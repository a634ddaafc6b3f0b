import { sql } from 'kysely';
import { enqueueRun } from '../src/execution/queue.js';
import { admissionPass } from '../src/flow/admission-pass.js';
import { reconcile } from '../src/lifecycle/reconciler.js';
import { LIMITED } from './flow-catalog.js';
import { activeRuns, type FlowFixture, insertHeld, resetRuns, sleep } from './flow-fixture.js';
import { percentile } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const PASSES = 40;
const READY = 8;
const SWEEPS = 10;

export interface AdmissionCost {
  waiting: number;
  /** Median ms of one pass admitting up to READY runs. */
  passMs: number;
  /** Median ms per admitted run. */
  perRunMs: number;
  /** Median ms of a reconciler sweep (nothing to do) beside them. */
  sweepMs: number;
}

/**
 * Admission passes on `waiting` held runs of the limited type over `tenants` lanes, with no
 * worker: each pass may admit READY runs (as if READY worker slots were free); between passes
 * (not timed) the admitted runs are marked finished and their jobs removed, so every pass finds
 * the same room. Then reconciler sweeps over the same backlog.
 */
export async function admissionCost(
  f: FlowFixture,
  options: { waiting: number; tenants: number },
): Promise<AdmissionCost> {
  await resetRuns(f);
  const tenants = f.tenants.slice(0, options.tenants);
  const perTenant = Math.ceil(options.waiting / tenants.length);
  await insertHeld(f, { type: LIMITED, tenants, perTenant, ms: 0 });
  await sql`vacuum analyze operation_runs`.execute(f.db);
  const deps = {
    db: f.db,
    runs: f.runs,
    types: f.registry.list(),
    pools: f.registry.flowPools,
    readyTarget: READY,
    enqueue: async (trx: typeof f.db, run: { id: string; type: string; priority: number }) => {
      await enqueueRun(trx, {
        taskIdentifier: `runwarden:${run.type}`,
        runId: run.id,
        maxAttempts: 1,
        priority: run.priority,
      });
    },
  };
  const passes: number[] = [];
  const perRun: number[] = [];
  for (let i = 0; i < PASSES; i++) {
    const t0 = performance.now();
    const result = await admissionPass(deps);
    const ms = performance.now() - t0;
    if (result.admitted.length === 0) throw new Error('an admission pass admitted nothing');
    passes.push(ms);
    perRun.push(ms / result.admitted.length);
    await sql`update operation_runs set status = 'completed', outcome = 'succeeded',
        started_at = now(), completed_at = now()
      where id = any(${result.admitted.map((r) => r.id)}::uuid[])`.execute(f.db);
    await sql`delete from graphile_worker._private_jobs`.execute(f.db);
  }
  const sweeps: number[] = [];
  for (let i = 0; i < SWEEPS; i++) {
    const t0 = performance.now();
    await reconcile({ db: f.db, runs: f.runs, registry: f.registry, logger: f.logger });
    sweeps.push(performance.now() - t0);
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const cost = {
    waiting: perTenant * tenants.length,
    passMs: median(passes),
    perRunMs: median(perRun),
    sweepMs: median(sweeps),
  };
  progress(
    `${fmt(cost.waiting)} waiting: pass ${cost.passMs.toFixed(1)} ms, ${cost.perRunMs.toFixed(2)} ms per admitted run, reconciler sweep ${cost.sweepMs.toFixed(1)} ms`,
  );
  return cost;
}

export interface PlainRound {
  admission: boolean;
  runsPerSecond: number;
  pickupsMs: number[];
}

/**
 * A type without `flow` (`demo.sleep 0`): `jobs` queued runs drained by one in-process worker at
 * `concurrency`, then `pickups` starts one at a time (start → running), with or without this
 * worker's admitter.
 */
export async function plainRound(
  f: FlowFixture,
  options: { admission: boolean; jobs: number; pickups: number; concurrency: number; tag: string },
): Promise<PlainRound> {
  await resetRuns(f);
  for (let i = 0; i < options.jobs; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, options.jobs - i) }, (_, k) =>
        f.startSleep(0, `${options.tag}-${i + k}`),
      ),
    );
  const worker = await f.startWorker({
    concurrency: options.concurrency,
    admission: options.admission,
  });
  try {
    while ((await activeRuns(f)) > 0) await sleep(20);
    const span = await sql<{ seconds: number }>`select
        extract(epoch from max(completed_at) - min(started_at))::float8 as seconds
      from operation_runs where type = 'demo.sleep'`.execute(f.db);
    const seconds = span.rows[0]?.seconds ?? Number.NaN;
    const pickupsMs: number[] = [];
    for (let i = 0; i < options.pickups; i++) {
      const before = Date.now();
      const run = await f.startSleep(0, `${options.tag}-pickup-${i}`);
      for (;;) {
        const row = await f.runs.get(run.id);
        if (row?.status === 'completed') {
          pickupsMs.push((row.started_at?.getTime() ?? Number.NaN) - before);
          break;
        }
        await sleep(2);
      }
    }
    return { admission: options.admission, runsPerSecond: options.jobs / seconds, pickupsMs };
  } finally {
    await worker.stop();
  }
}
