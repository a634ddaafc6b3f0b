import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { type CliProcess, spawnCli } from './cli.js';
import { type ProviderAccount, startOidcProvider, type TestProvider } from './oidc-provider.js';

export interface SsoServe {
  /** `http://127.0.0.1:<port>`: Runwarden's public URL. */
  rw: string;
  url(path: string): URL;
  provider: TestProvider;
  /** The `runwarden serve` child process, listening from the file's beforeAll on. */
  cli(): CliProcess;
}

/**
 * A real `runwarden serve` on `databaseUrl` with password login and SSO against a real OpenID
 * provider that knows `accounts`, as a platform runs it (DESIGN §15): started in the test file's
 * beforeAll and stopped in its afterAll.
 */
export async function ssoServe(
  databaseUrl: string,
  accounts: Record<string, ProviderAccount>,
): Promise<SsoServe> {
  const secret = `client-secret-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const rw = `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({
    redirectUri: `${rw}/api/auth/oidc/callback`,
    clientSecret: secret,
    accounts,
  });
  let cli: CliProcess | undefined;
  beforeAll(async () => {
    cli = spawnCli(['serve'], {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      RUNWARDEN_PUBLIC_URL: rw,
      RUNWARDEN_OIDC_ISSUER: provider.issuer,
      RUNWARDEN_OIDC_CLIENT_ID: 'runwarden',
      RUNWARDEN_OIDC_CLIENT_SECRET: secret,
      NODE_EXTRA_CA_CERTS: provider.caFile,
    });
    await cli.waitFor(/listening on/, 60_000);
  }, 90_000);
  afterAll(async () => {
    if (cli && cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    await provider.close();
  });
  return {
    rw,
    url: (path) => new URL(path, rw),
    provider,
    cli() {
      if (!cli) throw new Error('serve has not started (use it in a test or a later beforeAll)');
      return cli;
    },
  };
}
