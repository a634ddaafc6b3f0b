import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { until } from '../support/db.js';
import { apiHarness } from '../support/http.js';

const h = await apiHarness();
const entries: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    entries.push(JSON.parse(String(chunk)) as Record<string, unknown>);
    done();
  },
});
const pool = new pg.Pool({ connectionString: h.t.url, max: 2 });

async function appLoggingAt(level: string, summaryMs: number) {
  return await buildApp({
    db: h.t.db,
    pool,
    logger: pino({ level }, sink),
    registry: h.registry,
    runs: new RunService({ db: h.t.db }),
    options: { accessLogSummaryMs: summaryMs },
  });
}
afterAll(() => pool.end());

describe('access log: a line per request at debug, a summary a minute at info (issue 14 point 15)', () => {
  it('at info: no line per request, then one summary line with the counts', async () => {
    entries.length = 0;
    const app = await appLoggingAt('info', 200);
    try {
      await app.inject({ method: 'GET', url: '/api/health' });
      await app.inject({ method: 'GET', url: '/api/health' });
      await app.inject({ method: 'GET', url: '/api/me' }); // 401
      // The three may straddle a summary's boundary: together the summaries count them all.
      const summaries = () =>
        entries.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('api: '));
      await until(() => summaries().reduce((n, e) => n + Number(e.requests), 0) === 3, {
        within: 5000,
        what: 'summary lines counting the three requests',
      });
      const statuses = summaries().map((e) => e.statuses as Record<string, number>);
      expect(statuses.reduce((n, s) => n + (s['2xx'] ?? 0), 0)).toBe(2);
      expect(statuses.reduce((n, s) => n + (s['4xx'] ?? 0), 0)).toBe(1);
      for (const summary of summaries()) {
        expect(summary.level).toBe(30);
        expect(summary.msg).toMatch(/^api: \d+ requests? in the last 200 ms \(.*\), p95 \d+ ms$/);
      }
      expect(entries.filter((e) => e.level === 20)).toEqual([]);
      expect(entries.map((e) => e.msg)).not.toContain('incoming request');
      expect(entries.map((e) => e.msg)).not.toContain('request completed');
    } finally {
      await app.close();
    }
  });

  it('at debug: one line per request with method, path, status and time, invite tokens masked', async () => {
    entries.length = 0;
    const app = await appLoggingAt('debug', 60_000);
    try {
      await app.inject({ method: 'GET', url: '/api/health' });
      await app.inject({ method: 'GET', url: '/invite/rwi_secret-invite-token' });
      const lines = entries.filter((e) => e.level === 20 && typeof e.status === 'number');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatchObject({ method: 'GET', url: '/api/health', status: 200 });
      expect(lines[0]?.msg).toMatch(/^GET \/api\/health 200 \d+ ms$/);
      expect(JSON.stringify(entries)).not.toContain('secret-invite-token');
      expect(JSON.stringify(entries)).toContain('/invite/[redacted]');
    } finally {
      await app.close();
    }
  });

  it('at debug: the OIDC callback line masks the code and the state (issue 20, item 5)', async () => {
    entries.length = 0;
    const app = await appLoggingAt('debug', 60_000);
    try {
      await app.inject({
        method: 'GET',
        url: '/api/auth/oidc/callback?code=secret-code-1&iss=https%3A%2F%2Fidp&STATE=secret-state-1',
      });
      await app.inject({
        method: 'GET',
        url: '/api/auth/oidc/callback?state=secret-state-2&code=secret-code-2',
      });
      const lines = entries.filter((e) => e.level === 20 && typeof e.status === 'number');
      expect(lines.map((e) => e.url)).toEqual([
        '/api/auth/oidc/callback?code=[redacted]&iss=https%3A%2F%2Fidp&STATE=[redacted]',
        '/api/auth/oidc/callback?state=[redacted]&code=[redacted]',
      ]);
      expect(JSON.stringify(entries)).not.toMatch(/secret-(code|state)/);
    } finally {
      await app.close();
    }
  });
});
