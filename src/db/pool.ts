import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
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
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** A Kysely instance over a new pool for `connection`, or over an existing pg.Pool. */
export function createDb(connection: string | pg.Pool, options: DbOptions = {}): Db {
  const pool = typeof connection === 'string' ? createPool(connection, options) : connection;
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
