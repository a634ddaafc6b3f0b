import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { processMetrics } from '../execution/handler-metrics.js';
import type { OperationRegistry } from '../execution/registry.js';
import { bearerOf } from './auth.js';
import { registerCompletionMetrics } from './completion-metrics.js';
import { readModelOf } from './run-view.js';

/**
 * `GET /metrics` (Prometheus text). Run gauges are read from the database at scrape time, so
 * every API process reports the same fleet-wide numbers; API latency and handler durations are
 * this process's own.
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  options: { token?: string | undefined } = {},
): void {
  const reads = readModelOf(deps);
  const metrics = new Registry();
  const latency = new Histogram({
    name: 'runwarden_api_request_duration_seconds',
    help: 'API latency by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });
  new Gauge({
    name: 'runwarden_runs',
    help: 'Active runs, and runs completed in the last 24 h, by type, status and truth (problem class).',
    labelNames: ['type', 'status', 'truth'] as const,
    registers: [metrics],
    async collect() {
      this.reset();
      for (const row of await reads.runGauges(new Date())) this.inc(row.labels, row.count);
    },
  });
  registerCompletionMetrics(metrics, () => reads.completionTotals());
  stateGauge(
    metrics,
    'runwarden_queue_jobs',
    'Queue jobs by state (waiting, locked).',
    async () => {
      const { rows } = await sql<{ waiting: string; locked: string }>`
      select count(*) filter (where locked_at is null) as waiting,
             count(*) filter (where locked_at is not null) as locked
      from graphile_worker._private_jobs`.execute(deps.db);
      return rows[0];
    },
  );
  stateGauge(
    metrics,
    'runwarden_worker_slots',
    'Job slots of the worker processes seen in the last minute: configured, and live now (fewer while slots are restored after a database outage).',
    async () => {
      const { rows } = await sql<{ configured: string | null; live: string | null }>`
        select sum(concurrency) as configured, sum(live_slots) as live from workers
        where stopped_at is null and last_seen_at > now() - interval '1 minute'`.execute(deps.db);
      return rows[0];
    },
  );
  new Gauge({
    name: 'runwarden_reconciliations_24h',
    help: 'Runs the reconciler force-completed in the last 24 h, by reason code.',
    labelNames: ['reason'] as const,
    registers: [metrics],
    async collect() {
      this.reset();
      for (const row of await reads.reconciliationGauges(new Date()))
        this.set({ reason: row.reason }, row.count);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (!route || route === '/metrics') return;
    latency.observe(
      { method: request.method, route: routeLabel(route), status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    // RUNWARDEN_METRICS_TOKEN: scrapers send `Authorization: Bearer <token>`; unset, it is open.
    if (options.token && !sameSecret(bearerOf(request.headers.authorization), options.token))
      throw new RunwardenError('unauthenticated', 'GET /metrics needs the metrics bearer token.');
    const merged = Registry.merge([metrics, processMetrics]);
    reply.header('content-type', merged.contentType);
    return await merged.metrics();
  });
}

/**
 * Every API route is under /api; any other route is a file of the web app, one route per file
 * whose hashed name changes with each deploy, so they share one label and the series stay bounded.
 */
function routeLabel(route: string): string {
  return route.startsWith('/api/') ? route : 'static';
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, createHash('sha256').update(expected).digest());
}

/** A gauge with one value per `state`, the columns of one row read at scrape time. */
function stateGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => Promise<Record<string, string | null> | undefined>,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      for (const [state, value] of Object.entries((await read()) ?? {}))
        this.set({ state }, Number(value ?? 0));
    },
  });
}
