import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres } from '../src/db/embedded/cluster.js';
import { freePort } from '../src/db/embedded/recovery.js';

export interface BenchDatabase {
  url: string;
  /** The embedded cluster's postmaster (undefined on DATABASE_URL): its CPU is PostgreSQL's. */
  postmasterPid?: number;
  close(): Promise<void>;
}

/**
 * A throwaway database for one benchmark: a new database on DATABASE_URL's server, or a new
 * embedded cluster with default (durable) settings in a temp directory.
 */
export async function benchDatabase(
  label: string,
  options: { statements?: boolean } = {},
): Promise<BenchDatabase> {
  const name = `bench_${label}_${Date.now()}`;
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      close: async () => {
        const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    };
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'runwarden-bench-'));
  await chmod(dataDir, 0o755);
  progress('starting an embedded PostgreSQL for the benchmark…');
  const start = async (port: number) =>
    await startEmbeddedPostgres({
      dataDir,
      port,
      logger: pino({ level: 'warn' }),
      database: name,
      ephemeral: process.env.BENCH_FSYNC_OFF === '1',
    });
  const port = await freePort();
  let cluster = await start(port);
  if (options.statements) {
    // pg_stat_statements must be preloaded: the cluster's own configuration, then a restart.
    await withClient(cluster.url, async (c) => {
      await c.query(`alter system set shared_preload_libraries = 'pg_stat_statements'`);
      await c.query('alter system set pg_stat_statements.track_planning = on');
    });
    await cluster.stop();
    cluster = await start(port);
  }
  return {
    url: cluster.url,
    postmasterPid: cluster.pid,
    close: async () => {
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function withClient<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export function progress(message: string): void {
  process.stdout.write(`  ${message}\n`);
}

/** Runs `op` on `workers` concurrent loops for `seconds`; returns completed ops per second. */
export async function measure(
  workers: number,
  seconds: number,
  op: (worker: number) => Promise<void>,
): Promise<number> {
  const deadline = performance.now() + seconds * 1_000;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline) {
        await op(worker);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1_000);
}

export function fmt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}
