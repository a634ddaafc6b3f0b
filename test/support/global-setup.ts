import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { type EmbeddedCluster, startEmbeddedPostgres } from '../../src/db/embedded/cluster.js';
import { freePort } from '../../src/db/embedded/recovery.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createDb, createPool } from '../../src/db/pool.js';
import { migrateQueue } from '../../src/execution/queue.js';

export const TEMPLATE_DB = 'runwarden_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A connection URL to the test cluster's `postgres` database (for CREATE DATABASE). */
    adminUrl: string;
  }
}

/**
 * One PostgreSQL per test run: the embedded cluster (fsync off), or TEST_DATABASE_URL's server.
 * Migrates a template database once; each test file clones it (test/support/db.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: EmbeddedCluster | undefined;
  let dataDir: string | undefined;
  let adminUrl: string;
  if (process.env.TEST_DATABASE_URL) {
    adminUrl = process.env.TEST_DATABASE_URL;
  } else {
    dataDir = await mkdtemp(path.join(tmpdir(), 'runwarden-test-'));
    await chmod(dataDir, 0o755); // mkdtemp makes it 0700; the postgres user (when root) must reach it
    cluster = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      logger: pino({ level: 'warn' }),
      ephemeral: true,
      database: 'postgres',
    });
    adminUrl = cluster.url;
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${TEMPLATE_DB} with (force)`);
  await admin.query(`create database ${TEMPLATE_DB}`);
  await admin.end();

  const templateUrl = withDatabase(adminUrl, TEMPLATE_DB);
  const pool = createPool(templateUrl, { max: 1 });
  const db = createDb(pool);
  await migrateToLatest(db);
  await migrateQueue(pool);
  await db.destroy(); // a template must have no open connections while it is cloned

  project.provide('adminUrl', adminUrl);
  return async () => {
    await cluster?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
