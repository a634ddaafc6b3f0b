import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/db/embedded/recovery.js';
import { processesMentioning, spawnCli } from '../support/cli.js';
import { until } from '../support/db.js';

const isRoot = process.getuid?.() === 0;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'runwarden-embedded-'));
  await chmod(root, 0o755);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function startCli(dataDir: string, port: number, extra: Record<string, string> = {}) {
  const cli = spawnCli(['start'], {
    RUNWARDEN_DATA_DIR: dataDir,
    RUNWARDEN_PG_PORT: String(port),
    ...extra,
  });
  await cli.waitFor(/Runwarden is ready/);
  const line = await cli.waitFor(/connect with: /);
  const { clusterDir, postgresPid } = JSON.parse(line) as {
    clusterDir: string;
    postgresPid: number;
  };
  return { cli, clusterDir, postgresPid };
}

describe('embedded PostgreSQL behind `runwarden start`', () => {
  it('creates the cluster on first run, reuses it after, and leaves no process after SIGINT or SIGTERM', {
    timeout: 90_000,
  }, async () => {
    const dataDir = path.join(root, 'clean');
    const port = await freePort();
    const first = await startCli(dataDir, port);
    expect(first.cli.output()).toMatch(/creating the embedded PostgreSQL cluster/);
    expect(first.cli.output()).toMatch(
      new RegExp(`DATABASE_URL=postgresql://runwarden@127.0.0.1:${port}/runwarden`),
    );
    expect(first.cli.output()).not.toMatch(/postgresql:\/\/runwarden:[^@]+@/); // no password in logs
    expect(first.clusterDir).toBe(path.join(dataDir, 'pg'));

    // A second process on the same data dir must not take the first one's database away.
    const intruder = spawnCli(['start'], {
      RUNWARDEN_DATA_DIR: dataDir,
      RUNWARDEN_PG_PORT: String(port),
    });
    expect((await intruder.exited).code).toBe(1);
    expect(intruder.output()).toMatch(
      /Another Runwarden process \(pid \d+\) is running the embedded PostgreSQL/,
    );
    expect(isAlive(first.postgresPid)).toBe(true);

    first.cli.child.kill('SIGINT');
    expect((await first.cli.exited).code).toBe(0);
    expect(isAlive(first.postgresPid)).toBe(false);
    expect(await processesMentioning(first.clusterDir)).toEqual([]);

    const second = await startCli(dataDir, port);
    expect(second.cli.output()).not.toMatch(/creating the embedded PostgreSQL cluster/);
    second.cli.child.kill('SIGTERM');
    expect((await second.cli.exited).code).toBe(0);
    expect(await processesMentioning(second.clusterDir)).toEqual([]);
  });

  it('recovers after the app was killed with SIGKILL (orphaned postmaster, stale postmaster.pid)', async () => {
    const dataDir = path.join(root, 'killed');
    const port = await freePort();
    const first = await startCli(dataDir, port);
    first.cli.child.kill('SIGKILL');
    await first.cli.exited;
    expect(isAlive(first.postgresPid)).toBe(true); // what a SIGKILL leaves behind
    await stat(path.join(first.clusterDir, 'postmaster.pid'));

    const second = await startCli(dataDir, port);
    expect(second.cli.output()).toMatch(
      /stopped a PostgreSQL \(pid \d+\) left running on this data directory/,
    );
    expect(isAlive(first.postgresPid)).toBe(false);
    second.cli.child.kill('SIGINT');
    expect((await second.cli.exited).code).toBe(0);
    expect(await processesMentioning(second.clusterDir)).toEqual([]);
  });

  it('fails with a message naming the port when another process holds it', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const cli = spawnCli(['start'], {
        RUNWARDEN_DATA_DIR: path.join(root, 'blocked'),
        RUNWARDEN_PG_PORT: String(port),
      });
      const { code } = await cli.exited;
      expect(code).toBe(1);
      expect(cli.output()).toContain(
        `Port ${port} on 127.0.0.1 is already in use by another process`,
      );
      expect(cli.output()).toContain('RUNWARDEN_PG_PORT');
      expect(await processesMentioning(path.join(root, 'blocked'))).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('runs the cluster where PostgreSQL can reach it when the data dir sits under a mode-700 directory', async () => {
    const privateHome = path.join(root, 'private-home');
    await mkdir(privateHome, { mode: 0o700 });
    await chmod(privateHome, 0o700);
    const dataDir = path.join(privateHome, 'app', '.runwarden');
    const runtimeDir = path.join(root, 'runtime');
    const { cli, clusterDir } = await startCli(dataDir, await freePort(), {
      RUNWARDEN_PG_RUNTIME_DIR: runtimeDir,
    });
    if (isRoot) {
      // As root, PostgreSQL runs as `postgres`, which cannot traverse the 0700 directory.
      expect(clusterDir.startsWith(path.join(runtimeDir, 'clusters'))).toBe(true);
      expect(cli.output()).toMatch(/cannot reach .*private-home.*the cluster lives in/);
    } else {
      expect(clusterDir).toBe(path.join(dataDir, 'pg'));
    }
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
    await until(async () => (await processesMentioning(clusterDir)).length === 0, {
      what: 'postgres to exit',
    });
  });
});
