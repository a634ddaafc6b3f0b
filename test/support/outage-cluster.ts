import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import type { RunAs } from '../../src/db/embedded/binaries.js';
import {
  type EmbeddedCluster,
  spawnPostgres,
  startEmbeddedPostgres,
  waitUntilReady,
} from '../../src/db/embedded/cluster.js';
import { freePort, isAlive } from '../../src/db/embedded/recovery.js';
import { postgresSystemUser } from '../../src/db/embedded/system-user.js';

export interface OutageCluster {
  /** postgres superuser-ish URL to a database named `runwarden` in this cluster (created, EMPTY: caller migrates). */
  url: string;
  /** Stop the postmaster: 'fast' (SIGINT, like pg_ctl -m fast) or 'immediate' (SIGQUIT: a crash; next start recovers from WAL). Resolves once the postmaster process is gone and the port refuses connections. */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** Start it again on the same port and data directory; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Stop (if running) and delete everything. */
  destroy(): Promise<void>;
}

/** What differs between the two kinds of cluster: how the postmaster starts. */
interface Postmaster {
  url: string;
  /** Starts it; resolves with its pid once it accepts connections. */
  start(): Promise<number>;
  /** Tidies up after the postmaster is gone (before the next start). */
  afterStop(): Promise<void>;
}

const USER = 'runwarden';
const DATABASE = 'runwarden';

/**
 * A PostgreSQL cluster a fault test owns: it can stop it (cleanly or as a crash) and start it
 * again on the same port and data directory. The embedded binaries by default; Debian's server
 * (or any other install) when TEST_PG_BINDIR names its bin directory.
 */
export async function startOutageCluster(): Promise<OutageCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runwarden-outage-'));
  await chmod(dir, 0o755); // mkdtemp makes it 0700; the postgres user (when root) must reach it
  const port = await freePort();
  const bindir = process.env.TEST_PG_BINDIR;
  let postmaster: Postmaster;
  let pid: number | undefined;
  try {
    postmaster = bindir
      ? await serverPostmaster(bindir, dir, port)
      : await embeddedPostmaster(dir, port);
    pid = await postmaster.start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const stop = async (mode: 'fast' | 'immediate') => {
    if (pid === undefined) return;
    const stopping = pid;
    try {
      process.kill(stopping, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    } catch {
      // already gone
    }
    await waitFor(() => !isAlive(stopping), 60_000, `postmaster ${stopping} to exit`);
    await waitFor(() => portRefuses(port), 10_000, `port ${port} to refuse connections`);
    pid = undefined;
    await postmaster.afterStop();
  };

  return {
    url: postmaster.url,
    stop,
    async start() {
      if (pid !== undefined) throw new Error('the outage cluster is already running');
      pid = await postmaster.start();
    },
    async destroy() {
      await stop('fast');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The embedded binaries, through the product's own start-up code (durable: not `ephemeral`). */
async function embeddedPostmaster(dataDir: string, port: number): Promise<Postmaster> {
  const options = { dataDir, port, logger: pino({ level: 'warn' }), database: DATABASE };
  let cluster: EmbeddedCluster = await startEmbeddedPostgres(options);
  let first = true;
  return {
    url: cluster.url,
    async start() {
      if (!first) cluster = await startEmbeddedPostgres(options);
      first = false;
      return cluster.pid;
    },
    // startEmbeddedPostgres refuses a data dir whose owner.pid names a live process (ours).
    afterStop: () => rm(path.join(dataDir, 'owner.pid'), { force: true }),
  };
}

/** A server installation's initdb and postgres, run as the `postgres` user when we are root. */
async function serverPostmaster(bindir: string, dir: string, port: number): Promise<Postmaster> {
  const runAs = postgresSystemUser();
  const clusterDir = path.join(dir, 'pg');
  const logPath = path.join(dir, 'postgres.log');
  const password = randomBytes(18).toString('base64url');
  await mkdir(clusterDir, { mode: 0o700 });
  const pwfile = path.join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    await chown(clusterDir, runAs.uid, runAs.gid);
    await chown(pwfile, runAs.uid, runAs.gid);
  }
  try {
    const initdb = [
      `--pgdata=${clusterDir}`,
      `--username=${USER}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
    ];
    await runToEnd(path.join(bindir, 'initdb'), initdb, runAs);
  } finally {
    await rm(pwfile, { force: true });
  }

  const url = (database: string) =>
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let created = false;
  return {
    url: url(DATABASE),
    async start() {
      const child = await spawnPostgres({
        postgres: path.join(bindir, 'postgres'),
        clusterDir,
        port,
        logPath,
        runAs,
      });
      await waitUntilReady(url('postgres'), child, logPath);
      if (!created) {
        await withClient(url('postgres'), (client) => client.query(`create database ${DATABASE}`));
        created = true;
      }
      return child.pid ?? -1;
    },
    afterStop: async () => undefined,
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runToEnd(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  const { code, text } = await new Promise<{ code: number; text: string }>((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' } });
    let text = '';
    const collect = (chunk: Buffer) => {
      text += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (exit) => resolve({ code: exit ?? -1, text }));
  });
  if (code !== 0) throw new Error(`${command} failed (exit ${code}): ${text.slice(-2000)}`);
}

/** True when a TCP connect to the port is refused (nothing listens). */
async function portRefuses(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  within: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + within;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}
