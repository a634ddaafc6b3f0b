import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  canTraverse,
  locateBinaries,
  type RunAs,
  reachableBinaries,
  shortHash,
} from './binaries.js';
import { connectionLine } from './connection-line.js';
import { type Postmaster, spawnPostmaster, waitUntilReady } from './postmaster.js';
import { assertPortFree, isAlive, recoverStaleCluster } from './recovery.js';
import { postgresSystemUser } from './system-user.js';

export { type Postmaster, spawnPostgres, waitUntilReady } from './postmaster.js';

export interface EmbeddedOptions {
  /** RUNWARDEN_DATA_DIR: the cluster lives in `<dataDir>/pg`, its password in `<dataDir>/pgpass`. */
  dataDir: string;
  port: number;
  logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Where binaries and clusters go when running as root and `dataDir` is out of the postgres user's reach. */
  runtimeDir?: string;
  /** Trade durability for speed (fsync off): for test clusters only. */
  ephemeral?: boolean;
  database?: string;
  /** Abandons the start (initdb is stopped, a spawned postmaster shut down) and rejects. */
  signal?: AbortSignal;
  /**
   * Called the moment the postmaster is spawned, before it accepts connections, so the caller can
   * register its stop at once (a signal during start-up must not leave it behind).
   */
  onPostmaster?: (postmaster: Postmaster) => void;
}

export interface EmbeddedCluster {
  /** Connection URL with credentials, for this process only; never logged. */
  url: string;
  /** A psql command line without the password (it reads it from the pgpass file). */
  psqlCommand: string;
  clusterDir: string;
  pid: number;
  stop(options?: { hurry?: boolean }): Promise<void>;
}

const USER = 'runwarden';

/**
 * Starts the embedded PostgreSQL cluster: creates it on first run, reuses it after, recovers from
 * an earlier process that was killed, and stops it with a fast shutdown on `stop()`.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const { logger, signal } = options;
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'runwarden';
  await mkdir(dataDir, { recursive: true, mode: 0o755 });

  const runAs = postgresSystemUser();
  const runtimeDir = options.runtimeDir ?? '/var/lib/runwarden';
  let binaries = await locateBinaries();
  let clusterDir = path.join(dataDir, 'pg');
  if (runAs) {
    const reachable = await reachableBinaries(binaries, runAs, runtimeDir);
    binaries = reachable.binaries;
    if (reachable.copiedTo)
      logger.info(
        { path: reachable.copiedTo },
        'copied PostgreSQL binaries where the postgres user can run them',
      );
    if (!canTraverse(dataDir, runAs)) {
      clusterDir = path.join(runtimeDir, 'clusters', shortHash(dataDir));
      logger.warn(
        { dataDir, clusterDir },
        `running as root, PostgreSQL runs as the postgres user, which cannot reach ${dataDir} ` +
          `(a parent directory is not traversable); the cluster lives in ${clusterDir} instead. ` +
          'Set RUNWARDEN_DATA_DIR to a reachable directory to choose the place yourself.',
      );
    }
  }
  signal?.throwIfAborted();

  const password = await ensurePassword(dataDir);
  const initialised = await exists(path.join(clusterDir, 'PG_VERSION'));
  const ownerFile = path.join(dataDir, 'owner.pid');
  await refuseIfOwned(ownerFile, dataDir);
  if (initialised) {
    const recovered = await recoverStaleCluster(clusterDir);
    if (recovered) logger.warn({ clusterDir }, recovered);
  }
  await assertPortFree(options.port); // after recovery: our own orphan may have held it
  signal?.throwIfAborted();
  if (!initialised) {
    logger.info({ clusterDir }, 'creating the embedded PostgreSQL cluster (first run)');
    await initCluster(binaries.initdb, clusterDir, password, runAs, signal);
  }
  signal?.throwIfAborted();

  const logPath = path.join(dataDir, 'postgres.log');
  const postmaster = await spawnPostmaster(
    binaries.postgres,
    clusterDir,
    options.port,
    logPath,
    runAs,
    options.ephemeral,
    ownerFile,
  );
  options.onPostmaster?.(postmaster.handle);
  const adminUrl = connectionUrl(password, options.port, 'postgres');
  try {
    await waitUntilReady(adminUrl, postmaster.child, logPath, signal);
    await ensureDatabase(adminUrl, database);
    signal?.throwIfAborted();
  } catch (error) {
    await postmaster.handle.stop({ hurry: signal?.aborted ?? false });
    throw error;
  }

  await writeFile(ownerFile, `${process.pid}\n`);
  const cluster: EmbeddedCluster = {
    url: connectionUrl(password, options.port, database),
    psqlCommand: connectionLine({
      pgpassFile: path.join(dataDir, 'pgpass'),
      user: USER,
      port: options.port,
      database,
    }),
    clusterDir,
    pid: postmaster.handle.pid,
    stop: (stopOptions) => postmaster.handle.stop(stopOptions),
  };
  logger.info(
    { clusterDir, port: options.port, postgresPid: cluster.pid },
    `PostgreSQL ${binaries.version.split('-')[0]} data in ${clusterDir}; connect with: ${cluster.psqlCommand}`,
  );
  return cluster;
}

/**
 * A live postmaster on our data directory is an orphan to recover only when the Runwarden process
 * that started it is gone; while that process lives, a second one must not take its database.
 */
async function refuseIfOwned(ownerFile: string, dataDir: string): Promise<void> {
  const owner = Number.parseInt((await readFile(ownerFile, 'utf8').catch(() => '')).trim(), 10);
  if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !isAlive(owner)) return;
  throw new Error(
    `Another Runwarden process (pid ${owner}) is running the embedded PostgreSQL in ${dataDir}. ` +
      'Stop it first, or run this command with DATABASE_URL set to the database it printed.',
  );
}

function connectionUrl(password: string, port: number, database: string): string {
  return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** The password lives in a pgpass file (mode 600) so psql can use it and no log line needs it. */
async function ensurePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pgpass');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  const stored = existing?.trim().split(':').at(-1);
  if (stored) return stored;
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `127.0.0.1:*:*:${USER}:${password}\n`, { mode: 0o600 });
  return password;
}

async function initCluster(
  initdb: string,
  clusterDir: string,
  password: string,
  runAs: RunAs | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  // Parents stay traversable (recursive mkdir would give them the cluster's 0700 too).
  await mkdir(path.dirname(clusterDir), { recursive: true, mode: 0o755 });
  await makeClusterDir(clusterDir);
  // initdb reads the password from a file the postgres user can open; removed right after.
  const pwfile = path.join(tmpdir(), `runwarden-pw-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    await chown(clusterDir, runAs.uid, runAs.gid);
    await chown(pwfile, runAs.uid, runAs.gid);
  }
  try {
    const output = await run(
      initdb,
      [
        `--pgdata=${clusterDir}`,
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      runAs,
      signal,
    );
    signal?.throwIfAborted(); // initdb was stopped and has removed what it wrote
    if (output.code !== 0) {
      throw new Error(
        `initdb failed for ${clusterDir} (exit ${output.code}): ${output.text.slice(-2000)}`,
      );
    }
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * The cluster directory, mode 700. An empty one is reused: an initdb that was interrupted (a
 * signal during the first start) removes what it wrote but leaves the directory.
 */
async function makeClusterDir(clusterDir: string): Promise<void> {
  const entries = await readdir(clusterDir).catch(() => undefined);
  if (entries === undefined) {
    await mkdir(clusterDir, { mode: 0o700 });
    return;
  }
  if (entries.length > 0)
    throw new Error(
      `${clusterDir} holds an incomplete PostgreSQL cluster (no PG_VERSION: its creation was ` +
        'interrupted). Remove that directory and start again.',
    );
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0)
      await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** Runs a command to its end; on `signal` it is stopped (SIGTERM, SIGKILL 5 s later) and awaited. */
async function run(
  command: string,
  args: string[],
  runAs: RunAs | undefined,
  signal: AbortSignal | undefined,
): Promise<{ code: number; text: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' } });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    let killer: NodeJS.Timeout | undefined;
    const abort = () => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    };
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    child.once('error', reject);
    child.once('close', (code) => {
      signal?.removeEventListener('abort', abort);
      clearTimeout(killer);
      resolve({ code: code ?? -1, text });
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return await stat(file).then(
    () => true,
    () => false,
  );
}
