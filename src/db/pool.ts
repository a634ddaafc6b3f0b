import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { preparingPool } from './prepared.js';
import type { Database } from './schema.js';

// bigint (int8) columns come back as strings; counts (count(*)) are parsed where they are read.

export interface DbOptions {
  /** Pool size; default 10. */
  max?: number;
  applicationName?: string;
}

export type Db = Kysely<Database>;

export function createPool(connectionString: string, options: DbOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'runwarden',
  });
  // A client losing its connection (a database restart, failover, outage) must not crash the
  // process: idle ones report on the pool, checked-out ones on themselves, and node-postgres
  // throws an 'error' event nobody listens to. The query in flight fails on its own; a broken
  // client is dropped when it is released; the next query connects again.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/** A Kysely instance over a new pool for `connection`, or over an existing pg.Pool. */
export function createDb(connection: string | pg.Pool, options: DbOptions = {}): Db {
  const pool = typeof connection === 'string' ? createPool(connection, options) : connection;
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
}
