import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { quietLogger } from '../support/worker.js';

// Deployable anywhere: over plain HTTP (any address, not only localhost) the browser must not be
// told to upgrade every subresource to https, or the web app is an all-white page. Real sockets.
let t: TestDatabase;
let pool: pg.Pool;
const apps: FastifyInstance[] = [];

async function serve(trustProxy: boolean): Promise<string> {
  const app = await buildApp({
    db: t.db,
    pool,
    logger: quietLogger,
    registry: new OperationRegistry(
      demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
    ),
    runs: new RunService({ db: t.db }),
    secret: 'x'.repeat(64),
    options: { trustProxy },
  });
  apps.push(app);
  return app.listen({ host: '127.0.0.1', port: 0 });
}

beforeAll(async () => {
  t = await freshDatabase();
  pool = new pg.Pool({ connectionString: t.url, max: 4 });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await pool.end();
});

const PATHS = ['/api/health', '/', '/login'];

describe('security headers by transport', () => {
  it('over plain HTTP: a CSP without upgrade-insecure-requests, and no HSTS', async () => {
    const base = await serve(false);
    for (const path of PATHS) {
      const res = await fetch(`${base}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/default-src 'self'/);
      expect(csp, path).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers.get('strict-transport-security'), path).toBeNull();
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    // Without trust in a proxy, a forged X-Forwarded-Proto changes nothing.
    const forged = await fetch(`${base}/`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(forged.headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
    expect(forged.headers.get('strict-transport-security')).toBeNull();
  });

  it('behind a TLS-terminating proxy (RUNWARDEN_TRUST_PROXY=true, X-Forwarded-Proto: https): both are sent', async () => {
    const base = await serve(true);
    for (const path of PATHS) {
      const res = await fetch(`${base}${path}`, { headers: { 'x-forwarded-proto': 'https' } });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/default-src 'self'/);
      expect(csp.split(';'), path).toContain('upgrade-insecure-requests');
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
    }
    // The same trusted server reached over plain HTTP (no forwarded https) stays plain.
    const plain = await fetch(`${base}/`, { headers: { 'x-forwarded-proto': 'http' } });
    expect(plain.headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });
});
