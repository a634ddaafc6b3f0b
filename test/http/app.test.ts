import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { createDb } from '../../src/db/pool.js';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { apiHarness } from '../support/http.js';
import { quietLogger } from '../support/worker.js';

const h = await apiHarness();

describe('HTTP API foundation', () => {
  it('GET /api/health answers ok when the database does', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('GET /api/health answers 503 naming the database when it is unreachable', async () => {
    const url = `postgresql://nobody:x@127.0.0.1:${await freePort()}/none`;
    const dead = createDb(url, { max: 1 });
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const broken = await buildApp({
      db: dead,
      pool,
      logger: quietLogger,
      registry: h.registry,
      runs: new RunService({ db: dead }),
      secret: 'x'.repeat(64),
    });
    try {
      const res = await broken.inject({ method: 'GET', url: '/api/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'error', database: 'unreachable' });
    } finally {
      await broken.close();
      await dead.destroy();
      await pool.end();
    }
  });

  it('serves the OpenAPI document generated from the route schemas', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/health',
        '/api/auth/login',
        '/api/me',
        '/api/workspaces/{ws}/operations',
        '/api/workspaces/{ws}/operations/summary',
        '/api/operations/{id}',
        '/api/operations/{id}/cancel',
        '/api/operations/{id}/heartbeat',
        '/api/operations/{id}/progress',
        '/api/operations/{id}/complete',
        '/api/notifications',
        '/api/system/ops/stuck',
        '/api/system/ops/runs/{id}/retry',
        '/api/system/audit',
        '/api/stream',
      ]),
    );
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  it('answers an unknown route with the error shape, not an HTML page', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
  });

  it('sends security headers (helmet)', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('gives every response a request id', async () => {
    const a = await h.app.inject({ method: 'GET', url: '/api/health' });
    const b = await h.app.inject({ method: 'GET', url: '/api/health' });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('exposes Prometheus metrics with runs labelled by their truth', async () => {
    const { run } = await h.runs.createOrReuse({
      workspaceId: h.ids.contoso,
      tenantId: h.ids.prod,
      type: 'demo.sleep',
      identity: { tag: 'metrics' },
      input: { seconds: 1, tag: 'metrics' },
      initiatorUserId: null,
    });
    await h.runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting heartbeats.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
    // A worker that lost a slot to a database outage: it looks alive, and the gauge says it is short.
    await h.db
      .insertInto('workers')
      .values({
        id: 'metrics-worker',
        host: 'h',
        pid: 1,
        started_at: new Date(),
        last_seen_at: new Date(),
        concurrency: 4,
        live_slots: 3,
      })
      .execute();
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/runwarden_worker_slots\{state="configured"\} 4\n/);
    expect(res.body).toMatch(/runwarden_worker_slots\{state="live"\} 3\n/);
    expect(res.body).toMatch(
      /runwarden_runs\{type="demo.sleep",status="completed",truth="reconciled"\} 1/,
    );
    expect(res.body).toMatch(/runwarden_reconciliations_24h\{reason="run.heartbeat_lost"\} 1/);
    expect(res.body).toMatch(/runwarden_queue_jobs\{state="waiting"\}/);
  });
});
