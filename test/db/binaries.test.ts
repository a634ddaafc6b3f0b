import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canTraverse, locateBinaries, reachableBinaries } from '../../src/db/embedded/binaries.js';
import { postgresSystemUser } from '../../src/db/embedded/system-user.js';

const isRoot = process.getuid?.() === 0;
let root: string | undefined;
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

// CI runs as root, where PostgreSQL must run as the `postgres` user; this is that path.
describe.runIf(isRoot)('as root: binaries in a checkout the postgres user cannot reach', () => {
  it('are copied once to the runtime directory and run as postgres from there', async () => {
    const user = postgresSystemUser();
    expect(user).toBeDefined();
    if (!user) return;
    root = await mkdtemp(path.join(tmpdir(), 'runwarden-bin-'));
    await chmod(root, 0o755);
    const home = path.join(root, 'home');
    await mkdir(home, { mode: 0o700 });
    await chmod(home, 0o700);
    const real = await locateBinaries();
    const nativeCopy = path.join(home, 'native');
    await cp(path.dirname(path.dirname(real.postgres)), nativeCopy, {
      recursive: true,
      verbatimSymlinks: true,
    });
    const hidden = {
      ...real,
      initdb: path.join(nativeCopy, 'bin', 'initdb'),
      postgres: path.join(nativeCopy, 'bin', 'postgres'),
    };
    expect(canTraverse(path.join(nativeCopy, 'bin'), user)).toBe(false);

    const runtimeDir = path.join(root, 'runtime');
    const first = await reachableBinaries(hidden, user, runtimeDir);
    expect(first.copiedTo?.startsWith(runtimeDir)).toBe(true);
    const version = spawnSync(first.binaries.postgres, ['--version'], {
      ...user,
      encoding: 'utf8',
    });
    expect(version.stdout).toMatch(/postgres \(PostgreSQL\) 17\./);

    const second = await reachableBinaries(hidden, user, runtimeDir);
    expect(second.binaries.postgres).toBe(first.binaries.postgres);
  });
});
