import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/access/tokens.js';
import { apiTimeouts, DEFAULT_API_STATEMENT_MS, loadConfig } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase } from '../support/db.js';
import { seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

// DESIGN §16: a statement the server cancels for its statement_timeout (SQLSTATE 57014) is "not
// now" for an HTTP caller — 503 `database_unavailable` with Retry-After, never a 500 — and a
// process that answers HTTP gives a statement less time than a worker does.

const t = await freshDatabase();
let db: Db;
let pool: pg.Pool;
let app: FastifyInstance;
let read: string;
let token: string;

beforeAll(async () => {
  const scope = await seedScope(t.db);
  token = (
    await createToken(t.db, {
      workspaceId: scope.workspaceId,
      name: 'statement timeout test',
      role: 'owner',
      createdBy: scope.userId,
    })
  ).token;
  read = `/api/workspaces/${scope.workspaceId}/operations`;
  db = createDb(t.url, {
    timeouts: { connectMs: 5_000, statementMs: 300, idleInTransactionMs: 60_000 },
  });
  pool = new pg.Pool({ connectionString: t.url, max: 2 });
  app = await buildApp({
    db,
    pool,
    logger: quietLogger,
    registry: new OperationRegistry([]),
    runs: new RunService({ db }),
  });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.destroy();
});

describe('a statement that outruns its timeout', () => {
  it('answers 503 database_unavailable with Retry-After, and 200 once the database is quick again', async () => {
    const ask = () => app.inject({ url: read, headers: { authorization: `Bearer ${token}` } });
    expect((await ask()).statusCode).toBe(200);

    // Another session holds the runs table: the API's read waits, and the server cancels it.
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table operation_runs in access exclusive mode');
      const slow = await ask();
      expect(slow.statusCode).toBe(503);
      expect(slow.headers['retry-after']).toBe('5');
      expect(slow.json()).toEqual({
        error: {
          code: 'database_unavailable',
          message: 'The database did not answer in time; retry shortly.',
        },
      });
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    expect((await ask()).statusCode).toBe(200);
  });
});

describe('the limits of a process that answers HTTP', () => {
  const env = { DATABASE_URL: 'postgres://x@localhost/x' };

  it('gives a statement 7 s by default, so a silent connection is a 503 within 10 s', () => {
    const config = loadConfig(env);
    expect(config.dbTimeouts.statementMs).toBe(30_000);
    expect(apiTimeouts(config).statementMs).toBe(DEFAULT_API_STATEMENT_MS);
    expect(DEFAULT_API_STATEMENT_MS).toBe(7_000);
  });

  it('takes the lower of RUNWARDEN_DB_STATEMENT_TIMEOUT_MS and RUNWARDEN_API_STATEMENT_TIMEOUT_MS', () => {
    const lower = loadConfig({ ...env, RUNWARDEN_DB_STATEMENT_TIMEOUT_MS: '2000' });
    expect(apiTimeouts(lower).statementMs).toBe(2_000);
    const raised = loadConfig({ ...env, RUNWARDEN_API_STATEMENT_TIMEOUT_MS: '20000' });
    expect(apiTimeouts(raised).statementMs).toBe(20_000);
    const none = loadConfig({
      ...env,
      RUNWARDEN_DB_STATEMENT_TIMEOUT_MS: '0',
      RUNWARDEN_API_STATEMENT_TIMEOUT_MS: '0',
    });
    expect(apiTimeouts(none).statementMs).toBe(0);
    expect(() => loadConfig({ ...env, RUNWARDEN_API_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(
      /RUNWARDEN_API_STATEMENT_TIMEOUT_MS/,
    );
  });
});
