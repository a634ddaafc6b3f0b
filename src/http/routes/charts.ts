import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../access/authorize.js';
import { type Chart, readChart } from '../../insights/charts.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { CHART_RANGE_NAMES, ChartSchema, type ChartView } from '../schemas.js';
import { WsParam } from './directory-access.js';

const ChartQuery = z.object({
  range: z.enum(CHART_RANGE_NAMES).default('24h'),
  tenantId: z.uuid().optional(),
  type: z.string().min(1).max(200).optional(),
});

function toChartView(chart: Chart): ChartView {
  return {
    range: chart.range,
    step: chart.step,
    from: chart.from.toISOString(),
    to: chart.to.toISOString(),
    buckets: chart.buckets.map((b) => ({ ...b, at: b.at.toISOString() })),
  };
}

/** A workspace's, a tenant's or a type's runs over time, from the rollups (DESIGN §11, §18). */
export const chartRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, ctx) => {
  app.get(
    '/api/workspaces/:ws/charts',
    {
      schema: {
        tags: ['insights'],
        summary: 'Runs ended over time by outcome, failure rate, queue wait and duration p50/p95',
        description:
          'Bars of 1 minute (1h), 15 minutes (24h), 2 hours (7d) or 12 hours (30d), aligned in ' +
          'UTC; the last one holds now. A fleet counts once, as its parent, unless a tenant is ' +
          'named (then its child there counts). A member restricted to some tenants sees theirs.',
        operationId: 'getCharts',
        params: WsParam,
        querystring: ChartQuery,
        response: { 200: ChartSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const { tenantId, type, range } = request.query;
      const { access } = authorize(
        request.principal,
        { kind: 'workspace', ref: request.params.ws, tenantId },
        'operations.view',
      );
      const tenants = tenantId
        ? [tenantId]
        : access.restrictedTo
          ? access.tenants.map((t) => t.id)
          : ['*'];
      const chart = await readChart(ctx.db, {
        workspaceId: access.id,
        range,
        tenants,
        type: type ?? '*',
        now: ctx.now(),
      });
      return toChartView(chart);
    },
  );
};
