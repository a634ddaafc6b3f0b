import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createDb, type Db } from '../../src/db/pool.js';
import { TEMPLATE_DB, withDatabase } from './global-setup.js';

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
}

/**
 * A fresh, migrated database for one test file, cloned from the template in milliseconds and
 * dropped after the file's tests. `empty: true` gives an unmigrated one.
 */
export async function freshDatabase(
  options: { max?: number; empty?: boolean } = {},
): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(
    options.empty ? `create database ${name}` : `create database ${name} template ${TEMPLATE_DB}`,
  );
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const db = createDb(url, { max: options.max ?? 10 });
  afterAll(async () => {
    await db.destroy();
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${name} with (force)`);
    await cleanup.end();
  });
  return { db, url, name };
}

/** Polls `check` until it returns a truthy value or `within` ms pass; no fixed sleeps. */
export async function until<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { within?: number; every?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.within ?? 5_000);
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.every ?? 25));
  }
}

/** Resolves with `work`'s value, or fails naming `what` if it has not settled within `ms`. */
export async function settlesWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
