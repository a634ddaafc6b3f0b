import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chown, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
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
import { assertPortFree, isAlive, isRunning, killGroup, recoverStaleCluster } from './recovery.js';
import { postgresSystemUser } from './system-user.js';

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

/** A spawned postmaster of this process. */
export interface Postmaster {
  pid: number;
  /**
   * Shuts it down and waits (idempotent): a smart shutdown, then fast, then immediate.
   * `hurry`: fast at once, immediate after 5 s, SIGKILL after 2 more (for an interrupted boot).
   */
  stop(options?: { hurry?: boolean }): Promise<void>;
  /** Synchronous last resort (a second signal, process exit): immediate shutdown, then SIGKILL. */
  killNow(): void;
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

/**
 * Spawns a postmaster on `clusterDir`, listening on 127.0.0.1:`port` only, logging to `logPath`,
 * in its own process group: a terminal's Ctrl-C reaches only us, and we stop PostgreSQL last,
 * after everything that still needs the database has finished.
 */
export async function spawnPostgres(spec: {
  postgres: string;
  clusterDir: string;
  port: number;
  logPath: string;
  runAs: RunAs | undefined;
  ephemeral?: boolean;
}): Promise<ChildProcess> {
  const log = await open(spec.logPath, 'a', 0o644);
  const settings = [
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=',
    'max_connections=300',
    ...(spec.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  try {
    const child = spawn(
      spec.postgres,
      ['-D', spec.clusterDir, '-p', String(spec.port), ...settings.flatMap((s) => ['-c', s])],
      {
        ...spec.runAs,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env: { ...process.env, LC_ALL: 'C' },
      },
    );
    child.once('error', () => undefined); // an exec failure shows as an exit: see waitUntilReady
    return child;
  } finally {
    await log.close();
  }
}

async function spawnPostmaster(
  postgres: string,
  clusterDir: string,
  port: number,
  logPath: string,
  runAs: RunAs | undefined,
  ephemeral: boolean | undefined,
  ownerFile: string,
): Promise<{ child: ChildProcess; handle: Postmaster }> {
  const child = await spawnPostgres({ postgres, clusterDir, port, logPath, runAs, ephemeral });
  let stopping: Promise<void> | undefined;
  const handle: Postmaster = {
    pid: child.pid ?? -1,
    stop: (options) => {
      stopping ??= stopPostmaster(child, options?.hurry ?? false).finally(() =>
        rm(ownerFile, { force: true }),
      );
      return stopping;
    },
    killNow: () => {
      killPostmasterNow(child);
      rmSync(ownerFile, { force: true });
    },
  };
  return { child, handle };
}

/** Resolves once the postmaster accepts connections; throws if it exits or 60 s pass. */
export async function waitUntilReady(
  url: string,
  child: ChildProcess,
  logPath: string,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `PostgreSQL exited during start-up. Its log (${logPath}) ends with:\n${await tail(logPath)}`,
      );
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await delay(100, undefined, { signal }).catch(() => undefined);
  }
  throw new Error(
    `PostgreSQL did not accept connections within 60 s (${String(lastError)}); see ${logPath}`,
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

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopPostmaster(child: ChildProcess, hurry: boolean): Promise<void> {
  const pid = child.pid;
  if (!pid || exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitUpTo = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (isRunning(pid) && Date.now() < deadline) await Promise.race([gone, delay(50)]);
    return !isRunning(pid);
  };
  if (!hurry) {
    // Smart shutdown first: our pool's connections may still be closing (pg's Pool.end() resolves
    // before their sockets do); cutting them off would log an error per connection.
    child.kill('SIGTERM');
    if (await waitUpTo(3_000)) return;
  }
  child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
  if (await waitUpTo(hurry ? 5_000 : 30_000)) return;
  child.kill('SIGQUIT'); // immediate shutdown; the next start recovers from WAL
  if (await waitUpTo(2_000)) return;
  killGroup(pid);
  await gone;
}

/**
 * Synchronous, for when there is no time to wait on the event loop (a second signal, exit):
 * immediate shutdown, up to 2 s for it to take, then SIGKILL to the postmaster's process group
 * (its backends).
 */
function killPostmasterNow(child: ChildProcess): void {
  const pid = child.pid;
  if (!pid || exited(child) || !isRunning(pid)) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 2_000;
  while (isRunning(pid) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
  if (isRunning(pid)) killGroup(pid);
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

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}
