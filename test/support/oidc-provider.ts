import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Provider from 'oidc-provider';
import { generate } from 'selfsigned';

// A real OpenID provider (oidc-provider) over HTTPS with a certificate made here, for tests that
// sign in through single sign-on (DESIGN §15) with a real `runwarden serve` child. The child
// trusts the provider only through NODE_EXTRA_CA_CERTS=caFile; requests here trust it by `ca`.

/** A person the provider knows; `email_verified` is sent as given (left out when undefined). */
export interface ProviderAccount {
  email: string;
  name: string;
  groups: string[];
  email_verified?: unknown;
}

export interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

/** A browser's cookies: by host and path, as Set-Cookie gave them (ports share cookies). */
export class Jar {
  readonly cookies: Array<{ name: string; value: string; host: string; path: string }> = [];
  header(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.hostname && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
  store(url: URL, setCookies: string[]) {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key: string) =>
        attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const cookiePath = attr('path') ?? url.pathname.replace(/\/[^/]*$/, '') ?? '/';
      const expires = attr('expires');
      const gone =
        attr('max-age') === '0' || (expires !== undefined && Date.parse(expires) < Date.now());
      const at = this.cookies.findIndex(
        (c) => c.name === name && c.host === url.hostname && c.path === cookiePath,
      );
      if (at >= 0) this.cookies.splice(at, 1);
      if (!gone) this.cookies.push({ name, value, host: url.hostname, path: cookiePath || '/' });
    }
  }
}

export interface SendOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestProvider {
  issuer: string;
  /** The provider's certificate (PEM), in a file for NODE_EXTRA_CA_CERTS. */
  cert: string;
  caFile: string;
  /** The people it knows, by subject; a test may change them between sign-ins. */
  accounts: Map<string, ProviderAccount>;
  /** Who "types their password" at the provider in the next sign-in. */
  signingIn: string;
  /** One request, no redirect followed (the provider's certificate trusted). */
  send(url: URL, jar: Jar, options?: SendOptions): Promise<Answer>;
  /**
   * Follows redirects from `start` by hand until one leaves `app`'s sign-in routes and the
   * provider: where the browser lands on `app` (path and query) and every hop.
   */
  follow(start: URL, jar: Jar, app: string): Promise<{ landed: string; hops: string[] }>;
  close(): Promise<void>;
}

export async function startOidcProvider(options: {
  redirectUri: string;
  accounts: Record<string, ProviderAccount>;
  clientSecret: string;
}): Promise<TestProvider> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runwarden-oidc-'));
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const caFile = path.join(dir, 'provider.pem');
  await writeFile(caFile, pems.cert);
  const accounts = new Map(Object.entries(options.accounts));
  let provider: Provider | undefined;
  const result: TestProvider = {
    issuer: '',
    cert: pems.cert,
    caFile,
    accounts,
    signingIn: '',
    send,
    follow,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    void (async () => {
      if (!provider) throw new Error('provider not ready');
      // The provider's login page: the person signs in as `signingIn` (no form to fill by hand).
      if (req.url?.startsWith('/interaction/')) {
        await provider.interactionDetails(req, res);
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: result.signingIn } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      provider.callback()(req, res);
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  result.issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = new Provider(result.issuer, {
    clients: [
      {
        client_id: 'runwarden',
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: {
      openid: ['sub', 'groups'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600 },
    // No consent screen: the client is first-party.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client?.clientId ?? '',
        accountId: ctx.oidc.session?.accountId ?? '',
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email_verified: true, ...account }) };
    },
  });

  function send(url: URL, jar: Jar, request: SendOptions = {}): Promise<Answer> {
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    return new Promise((resolve, reject) => {
      const sent = (url.protocol === 'https:' ? https : http).request(
        url,
        {
          method: request.method ?? 'GET',
          ca: pems.cert,
          headers: {
            cookie: jar.header(url),
            ...(payload ? { 'content-type': 'application/json' } : {}),
            ...request.headers,
          },
        },
        (res) => {
          jar.store(url, res.headers['set-cookie'] ?? []);
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }),
          );
        },
      );
      sent.on('error', reject);
      sent.end(payload);
    });
  }

  async function follow(start: URL, jar: Jar, app: string) {
    const origin = new URL(app).origin;
    const hops: string[] = [];
    let url = start;
    for (let i = 0; i < 12; i++) {
      const answer = await send(url, jar);
      hops.push(`${answer.status} ${url.href}`);
      if (!answer.location) throw new Error(`no redirect from ${url.href}: ${answer.body}`);
      url = new URL(answer.location, url);
      if (url.origin !== new URL(result.issuer).origin && url.origin !== origin)
        return { landed: url.href, hops };
      if (url.origin === origin && !url.pathname.startsWith('/api/auth/oidc/'))
        return { landed: `${url.pathname}${url.search}${url.hash}`, hops };
    }
    throw new Error(`too many redirects: ${hops.join(' → ')}`);
  }

  return result;
}
