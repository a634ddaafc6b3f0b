import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * After a SIGKILL of the app, its postmaster may still run (it is its own process) or have left a
 * stale `postmaster.pid`. A live postmaster on our data directory is ours: stop it (fast shutdown)
 * so this process owns the cluster. A lock file whose pid is dead or not a postgres is removed.
 * Returns what it did, for the log.
 */
export async function recoverStaleCluster(clusterDir: string): Promise<string | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (content === undefined) return undefined;
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await isPostgres(pid))) {
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 30_000;
    while (isAlive(pid)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await delay(50);
    }
    return `stopped a PostgreSQL (pid ${pid}) left running on this data directory by an earlier process`;
  }
  await rm(pidFile, { force: true });
  return `removed a stale postmaster.pid (pid ${Number.isNaN(pid) ? '?' : pid} is not running)`;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILL to a process group (a detached postmaster leads its own, with its backends). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Alive and not a zombie: an exited child stays in the process table until Node reaps it. */
export function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux'; // no /proc (macOS): trust kill(pid, 0)
  }
}

async function isPostgres(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  // Where /proc is missing (macOS), trust the lock file: a live pid on our data dir is a postmaster.
  return cmdline === '' ? process.platform !== 'linux' : cmdline.includes('postgres');
}

/** Fails with a message naming the port when something else already listens on it. */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  const inUse = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
  if (inUse) {
    throw new Error(
      `Port ${port} on ${host} is already in use by another process, so the embedded PostgreSQL cannot ` +
        `start there. Set RUNWARDEN_PG_PORT to a free port, stop whatever listens on ${port} ` +
        `(ss -ltnp 'sport = :${port}' shows it), or set DATABASE_URL to use an existing PostgreSQL.`,
    );
  }
}

/** A port the OS says is free right now (for tests and throwaway clusters). */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
