import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/schema.js';
import { processMetrics } from '../execution/handler-metrics.js';
import type { OperationRegistry } from '../execution/registry.js';
import { readModelOf } from './run-view.js';

/**
 * `GET /metrics` (Prometheus text). Run gauges are read from the database at scrape time, so
 * every API process reports the same fleet-wide numbers; API latency and handler durations are
 * this process's own.
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: { db: Kysely<Database>; registry: OperationRegistry },
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
  new Gauge({
    name: 'runwarden_queue_jobs',
    help: 'Queue jobs by state (waiting, locked).',
    labelNames: ['state'] as const,
    registers: [metrics],
    async collect() {
      const { rows } = await sql<{ waiting: string; locked: string }>`
        select count(*) filter (where locked_at is null) as waiting,
               count(*) filter (where locked_at is not null) as locked
        from graphile_worker._private_jobs`.execute(deps.db);
      this.set({ state: 'waiting' }, Number(rows[0]?.waiting ?? 0));
      this.set({ state: 'locked' }, Number(rows[0]?.locked ?? 0));
    },
  });
  new Gauge({
    name: 'runwarden_worker_slots',
    help: 'Job slots of the worker processes seen in the last minute: configured, and live now (fewer while slots are restored after a database outage).',
    labelNames: ['state'] as const,
    registers: [metrics],
    async collect() {
      const { rows } = await sql<{ configured: string | null; live: string | null }>`
        select sum(concurrency) as configured, sum(live_slots) as live from workers
        where stopped_at is null and last_seen_at > now() - interval '1 minute'`.execute(deps.db);
      this.set({ state: 'configured' }, Number(rows[0]?.configured ?? 0));
      this.set({ state: 'live' }, Number(rows[0]?.live ?? 0));
    },
  });
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
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const merged = Registry.merge([metrics, processMetrics]);
    reply.header('content-type', merged.contentType);
    return await merged.metrics();
  });
}
