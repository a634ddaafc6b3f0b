import { afterAll } from 'vitest';
import { createToken } from '../../src/access/tokens.js';
import { freePort } from '../../src/db/embedded/recovery.js';
import { type BlackholeProxy, startBlackholeProxy } from './blackhole-proxy.js';
import { type CliProcess, spawnCli } from './cli.js';
import type { TestDatabase } from './db.js';
import { type Scope, seedScope } from './fixtures.js';

export interface BlackholedServe {
  proxy: BlackholeProxy;
  serve: CliProcess;
  scope: Scope;
  /** An owner's API token of `scope`'s workspace. */
  token: string;
  apiUrl: string;
}

/**
 * A real `runwarden serve` (the fault catalog) that reaches `t` through a blackholing proxy of the
 * test's own, listening; `env` adds to its environment. Killed, and the proxy closed, after the file.
 */
export async function startBlackholedServe(
  t: TestDatabase,
  env: Record<string, string> = {},
): Promise<BlackholedServe> {
  const scope = await seedScope(t.db);
  const { token } = await createToken(t.db, {
    workspaceId: scope.workspaceId,
    name: 'blackhole test',
    role: 'owner',
    createdBy: scope.userId,
  });
  const target = new URL(t.url);
  const proxy = await startBlackholeProxy({ host: target.hostname, port: Number(target.port) });
  const port = await freePort();
  const serve = spawnCli(['serve'], {
    DATABASE_URL: proxy.through(t.url),
    RUNWARDEN_CONFIG: 'test/fixtures/fault-catalog.ts',
    PORT: String(port),
    HOST: '127.0.0.1',
    ...env,
  });
  afterAll(async () => {
    if (serve.child.exitCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    await proxy.close();
  });
  await serve.waitFor(/Runwarden API listening/, 90_000);
  return { proxy, serve, scope, token, apiUrl: `http://127.0.0.1:${port}` };
}
