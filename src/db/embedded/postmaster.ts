import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { RunAs } from './binaries.js';
import { isRunning, killGroup } from './recovery.js';

// The postmaster process of the embedded cluster: spawning it in its own process group, waiting
// until it accepts connections, and stopping it (politely, or at once when there is no time).

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

/** Spawns the cluster's postmaster with a stop handle that also removes the owner file. */
export async function spawnPostmaster(
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

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}
