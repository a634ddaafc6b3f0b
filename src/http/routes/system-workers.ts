import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../access/authorize.js';
import { workerState } from '../../domain/worker-state.js';
import { listWorkers, type WorkerWithRuns } from '../../runs/worker-reads.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { type WorkerView, WorkerViewSchema } from '../schemas.js';

/** Stopped workers stay on the list this long after they stopped. */
const STOPPED_HORIZON_MS = 24 * 3600 * 1000;
/** Running runs named per worker; `running.count` counts them all. */
const RUNS_PER_WORKER = 50;
/** Workers listed at most (every live one of any plausible fleet). */
const WORKERS_LISTED = 500;

function toWorkerView(worker: WorkerWithRuns, now: Date): WorkerView {
  return {
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    version: worker.version,
    types: worker.types,
    concurrency: worker.concurrency,
    liveSlots: worker.live_slots,
    running: {
      count: worker.running.count,
      runs: worker.running.runs.map((run) => ({ ...run, link: `/system/ops/runs/${run.id}` })),
    },
    startedAt: worker.started_at.toISOString(),
    lastSeenAt: worker.last_seen_at.toISOString(),
    stoppedAt: worker.stopped_at?.toISOString() ?? null,
    heartbeatMs: worker.heartbeat_ms,
    state: workerState(worker, now),
  };
}

/** The worker processes platform staff watch (DESIGN §11, §18). */
export const systemWorkerRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.get(
    '/api/system/workers',
    {
      schema: {
        tags: ['system'],
        summary: 'Worker processes with their state and running runs (system.ops.view)',
        description:
          'Newest first: every worker not stopped, and those stopped within the last 24 hours. ' +
          'alive: seen within 3 of its heartbeats; silent: not seen since, not stopped; stopped: ' +
          'it stopped, or the reconciler declared it dead.',
        operationId: 'listWorkers',
        // 404: not platform staff, as if the system plane did not exist.
        response: {
          200: z.object({ items: z.array(WorkerViewSchema) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      authorize(request.principal, { kind: 'platform' }, 'system.ops.view');
      const now = ctx.now();
      const workers = await listWorkers(ctx.db, {
        stoppedSince: new Date(now.getTime() - STOPPED_HORIZON_MS),
        runsPerWorker: RUNS_PER_WORKER,
        limit: WORKERS_LISTED,
      });
      return { items: workers.map((w) => toWorkerView(w, now)) };
    },
  );
};
