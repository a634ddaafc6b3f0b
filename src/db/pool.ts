import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type DbTimeouts, DEFAULT_DB_TIMEOUTS } from '../config.js';
import { withPasswordFromPgpass } from './pgpass.js';
import { preparingPool } from './prepared.js';
import type { Database } from './schema.js';

// bigint (int8) columns come back as strings; counts (count(*)) are parsed where they are read.

export interface DbOptions {
  /** Pool size; default 10. */
  max?: number;
  applicationName?: string;
  /** Default DEFAULT_DB_TIMEOUTS (src/config.ts); the CLI passes RUNWARDEN_DB_*_TIMEOUT_MS. */
  timeouts?: DbTimeouts;
  /** How much longer than the statement timeout the client waits for an answer (QUERY_GRACE_MS). */
  queryGraceMs?: number;
}

export type Db = Kysely<Database>;

/**
 * How much longer than the server's statement_timeout the client waits for an answer: a slow
 * statement is cancelled by the server first (its own error), so only silence reaches this.
 */
export const QUERY_GRACE_MS = 2_000;
/** TCP keepalive probes start after this much idle time on a connection. */
const KEEPALIVE_DELAY_MS = 10_000;

/** The same limits without a statement timeout: for migrations, whose statements may run long. */
export function withoutStatementTimeout(timeouts: DbTimeouts): DbTimeouts {
  return { ...timeouts, statementMs: 0 };
}

export function createPool(connectionString: string, options: DbOptions = {}): pg.Pool {
  const timeouts = options.timeouts ?? DEFAULT_DB_TIMEOUTS;
  const statement = timeouts.statementMs > 0 ? timeouts.statementMs : undefined;
  const pool = new pg.Pool({
    connectionString: withPasswordFromPgpass(connectionString),
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'runwarden',
    connectionTimeoutMillis: timeouts.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    statement_timeout: statement,
    query_timeout:
      statement === undefined ? undefined : statement + (options.queryGraceMs ?? QUERY_GRACE_MS),
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs || undefined,
  });
  // A client losing its connection (a database restart, failover, outage) must not crash the
  // process: idle ones report on the pool, checked-out ones on themselves, and node-postgres
  // throws an 'error' event nobody listens to. The query in flight fails on its own; a broken
  // client is dropped when it is released; the next query connects again.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    if (statement !== undefined) dropOnReadTimeout(client);
  });
  return pool;
}

type Query = (...args: unknown[]) => unknown;

/**
 * A connection that did not answer within the query timeout is gone silent (a failover that
 * blackholes TCP): node-postgres keeps it and queues the next query behind the one that never
 * returns, so it is cut here and the pool drops it (as pg-pool does on a connect timeout).
 */
function dropOnReadTimeout(client: pg.Client): void {
  const query = client.query.bind(client) as Query;
  const watched: Query = (...args) => {
    const result = query(...args);
    if (result instanceof Promise)
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') cutConnection(client);
      });
    return result;
  };
  Object.assign(client, { query: watched });
}

/**
 * Closes a connection gone silent under its client: node-postgres reports it as an error to the
 * client's holder (its queries fail, its `error` event fires) and a pool drops it on release.
 */
export function cutConnection(client: pg.Client): void {
  (
    client as unknown as { connection?: { stream?: { destroy(): void } } }
  ).connection?.stream?.destroy();
}

/** A Kysely instance over a new pool for `connection`, or over an existing pg.Pool. */
export function createDb(connection: string | pg.Pool, options: DbOptions = {}): Db {
  const pool = typeof connection === 'string' ? createPool(connection, options) : connection;
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
}
