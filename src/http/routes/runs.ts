import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../access/authorize.js';
import type { Principal } from '../../access/principal.js';
import { RunwardenError } from '../../domain/errors.js';
import { TERMINAL_OUTCOMES } from '../../domain/run.js';
import { type ExternalReport, reportExternal } from '../../execution/external.js';
import type { RunWithInitiator } from '../../runs/run-reads.js';
import { cancelForCaller } from '../cancel.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { visibleRun } from '../run-access.js';
import { toRunDetail } from '../run-detail-view.js';
import { readModelOf, toRunView } from '../run-view.js';
import { RunDetailSchema, RunViewSchema } from '../schemas.js';

const RunParams = z.object({ id: z.uuid() });
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Counts = z.record(z.string().min(1).max(100), Count);
const RunResponse = z.object({ run: RunViewSchema });
/** 403 not an API token; 409 the run is terminal or not external; 422 a state or counts it refuses. */
const ReportErrors = errorResponses(403, 404, 409, 422);

/** The canonical run: detail, cancel, and the reports of external runs (DESIGN §11). */
export const runRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  const reads = readModelOf(ctx);
  const visible = (
    principal: Principal | undefined,
    id: string,
    capability: 'operations.view' | 'operations.start' | 'operations.cancel',
  ) => visibleRun({ db: ctx.db, reads, now: ctx.now }, principal, id, capability);

  app.get(
    '/api/operations/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'A run in detail: its truth, timeline and diagnostics',
        operationId: 'getRun',
        params: RunParams,
        response: { 200: RunDetailSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { run } = await visible(request.principal, request.params.id, 'operations.view');
      return await toRunDetail(reads, ctx.registry, run, ctx.now());
    },
  );

  app.post(
    '/api/operations/:id/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run: at once if queued, by request if running',
        operationId: 'cancelRun',
        params: RunParams,
        response: {
          200: z.object({ run: RunViewSchema, effect: z.enum(['cancelled', 'cancel_requested']) }),
          ...errorResponses(403, 404, 409),
        },
      },
    },
    async (request) => {
      const { run, principal } = await visible(
        request.principal,
        request.params.id,
        'operations.cancel',
      );
      const effect = await cancelForCaller(ctx, run, principal, 'run.cancel');
      return { run: await viewOf(run.id), effect };
    },
  );

  async function viewOf(id: string) {
    const run = await reads.find(id, ctx.now());
    if (!run) throw notFound('run');
    return toRunView(run, ctx.registry, ctx.now());
  }

  /** External runs report with an API token allowed to start operations in the run's workspace. */
  async function report(
    principal: Principal | undefined,
    id: string,
    body: ExternalReport | ((run: RunWithInitiator) => ExternalReport),
  ) {
    const { run, principal: caller } = await visible(principal, id, 'operations.start');
    if (caller.via !== 'token') {
      throw new RunwardenError('forbidden', 'External runs report with an API token.');
    }
    await reportExternal(ctx, run.id, typeof body === 'function' ? body(run) : body);
    return { run: await viewOf(run.id) };
  }

  app.post(
    '/api/operations/:id/heartbeat',
    {
      schema: {
        tags: ['external runs'],
        summary: "An external run is alive, optionally in another of its type's states",
        operationId: 'reportHeartbeat',
        params: RunParams,
        body: z.strictObject({ state: z.string().min(1).max(100).optional() }).nullish(),
        response: { 200: RunResponse, ...ReportErrors },
      },
    },
    async (request) => {
      // Without a state, the run stays in the one it is in.
      const state = request.body?.state;
      return await report(request.principal, request.params.id, (run) => ({
        state: state ?? run.status,
      }));
    },
  );

  app.post(
    '/api/operations/:id/progress',
    {
      schema: {
        tags: ['external runs'],
        summary: "An external run's progress and counts so far",
        operationId: 'reportProgress',
        params: RunParams,
        body: z.strictObject({
          processed: Count,
          total: Count.nullish(),
          counts: Counts.optional(),
        }),
        response: { 200: RunResponse, ...ReportErrors },
      },
    },
    async (request) => {
      const { processed, total, counts } = request.body;
      return await report(request.principal, request.params.id, {
        state: 'running',
        progress: { processed, total },
        counts,
      });
    },
  );

  app.post(
    '/api/operations/:id/complete',
    {
      schema: {
        tags: ['external runs'],
        summary: 'An external run is done: its outcome, counts and failures',
        operationId: 'completeRun',
        params: RunParams,
        body: z.strictObject({
          outcome: z.enum(TERMINAL_OUTCOMES),
          counts: Counts.optional(),
          failures: z
            .array(
              z.strictObject({ code: z.string().min(1).max(100), message: z.string().max(2000) }),
            )
            .max(100)
            .optional(),
        }),
        response: { 200: RunResponse, ...ReportErrors },
      },
    },
    async (request) => {
      const { outcome, counts, failures } = request.body;
      return await report(request.principal, request.params.id, {
        state: outcome,
        counts,
        failures,
      });
    },
  );
};
