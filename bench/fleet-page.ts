import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { type FleetFixture, resetFleets } from './fleet-fixture.js';
import { fleetInput } from './fleet-start.js';
import { progress } from './support.js';
import { drainWithProcesses } from './worker-processes.js';

const CATALOG = path.resolve(import.meta.dirname, 'fleet-catalog.ts');
const DEADLINE_MS = 180_000;

/**
 * The sampler runs on a thread of its own (as a browser would, elsewhere): every `everyMs` it asks
 * for each path in turn, one request at a time, and times request out → whole body in.
 */
const SAMPLER_THREAD = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { base, cookie, paths, everyMs } = workerData;
  const times = paths.map(() => []);
  let stop = false;
  parentPort.on('message', () => { stop = true; });
  (async () => {
    // One round untimed first: connections open, as a browser's already are.
    for (const p of paths) await (await fetch(base + p, { headers: { cookie } })).arrayBuffer();
    while (!stop) {
      const tick = performance.now();
      for (const [i, p] of paths.entries()) {
        const started = performance.now();
        const res = await fetch(base + p, { headers: { cookie } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(p + ': ' + res.status);
        times[i].push(performance.now() - started);
      }
      const wait = everyMs - (performance.now() - tick);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })().then(() => parentPort.postMessage(times), (e) => parentPort.postMessage({ error: String(e) }));
`;

export interface FleetRun {
  startMs: number;
  /** Per sampled path, its request times (sorted). */
  times: number[][];
  /** Fleet start → parent completed, seconds. */
  seconds: number;
  outcome: string;
  summary: Record<string, number>;
  /** Parent created → running (its first child running), ms. */
  parentRunningMs: number;
  /** Last child's completed_at → parent's completed_at, ms. */
  lastChildToParentMs: number;
  parentId: string;
}

/**
 * A fleet over every active tenant, started over HTTP while `processes` real `runwarden worker`
 * processes (× `concurrency`) wait; from the start until the parent completes, `paths(parentId)`
 * are sampled every `everyMs`.
 */
export async function fleetWhileRunning(
  f: FleetFixture,
  options: {
    type: string;
    processes: number;
    concurrency: number;
    everyMs: number;
    paths: (parentId: string) => string[];
  },
): Promise<FleetRun> {
  await resetFleets(f);
  let run:
    | Omit<FleetRun, 'outcome' | 'summary' | 'parentRunningMs' | 'lastChildToParentMs'>
    | undefined;
  await drainWithProcesses(f.url, {
    processes: options.processes,
    concurrency: options.concurrency,
    catalog: CATALOG,
    drained: async () => {
      const t0 = performance.now();
      const res = await fetch(`${f.base}/api/workspaces/contoso/fleet-operations`, {
        method: 'POST',
        headers: {
          cookie: f.cookie,
          'x-csrf-token': f.csrfToken,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ type: options.type, tenants: 'all', input: fleetInput('page') }),
      });
      const startMs = performance.now() - t0;
      const body = (await res.json()) as { run: { id: string } };
      if (res.status !== 202) throw new Error(`POST fleet-operations: ${res.status}`);
      const parentId = body.run.id;
      const sampler = new Worker(SAMPLER_THREAD, {
        eval: true,
        workerData: {
          base: f.base,
          cookie: f.cookie,
          paths: options.paths(parentId),
          everyMs: options.everyMs,
        },
      });
      const answer = once(sampler, 'message');
      let polls = 0;
      try {
        for (;;) {
          const parent = await f.db
            .selectFrom('operation_runs')
            .select(['status', 'progress_processed'])
            .where('id', '=', parentId)
            .executeTakeFirstOrThrow();
          if (parent.status === 'completed') break;
          if (performance.now() - t0 > DEADLINE_MS)
            throw new Error(`the parent is still ${parent.status} after ${DEADLINE_MS} ms`);
          polls += 1;
          if (polls % 50 === 0) progress(`${parent.progress_processed} children done`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const seconds = (performance.now() - t0) / 1000;
        sampler.postMessage('stop');
        const [times] = (await answer) as [number[][] | { error: string }];
        if (!Array.isArray(times)) throw new Error(times.error);
        run = { startMs, times: times.map((t) => t.sort((a, b) => a - b)), seconds, parentId };
      } finally {
        await sampler.terminate();
      }
      return polls;
    },
  });
  if (!run) throw new Error('the fleet did not run');
  const parent = await f.db
    .selectFrom('operation_runs')
    .select(['outcome', 'summary_counts', 'created_at', 'started_at', 'completed_at'])
    .where('id', '=', run.parentId)
    .executeTakeFirstOrThrow();
  const children = await sql<{ last: Date }>`select max(r.completed_at) as last
    from fleet_children c join operation_runs r on r.id = c.run_id
    where c.parent_id = ${run.parentId}`.execute(f.db);
  const last = children.rows[0]?.last;
  if (!parent.completed_at || !parent.started_at || !last) throw new Error('no completion');
  return {
    ...run,
    outcome: parent.outcome,
    summary: parent.summary_counts,
    parentRunningMs: parent.started_at.getTime() - parent.created_at.getTime(),
    lastChildToParentMs: parent.completed_at.getTime() - last.getTime(),
  };
}
