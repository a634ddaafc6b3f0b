import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { type CliProcess, spawnCli } from '../support/cli.js';

// Deployable anywhere: the line `runwarden start` logs for its embedded PostgreSQL is an
// environment a second process on the same machine can use as is. Real processes, a real cluster.
const ROOT = path.resolve(import.meta.dirname, '../..');
let root: string;
let start: CliProcess;
let line: string;
const others: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'runwarden-line-'));
  await chmod(root, 0o755); // as root, PostgreSQL runs as the postgres user, which must reach it
  start = spawnCli(['start'], {
    RUNWARDEN_DATA_DIR: path.join(root, 'data'),
    RUNWARDEN_PG_PORT: String(await freePort()),
    PORT: String(await freePort()),
    RUNWARDEN_DEMO: 'false',
  });
  const logged = JSON.parse(await start.waitFor(/connect with: /, 90_000)) as { msg: string };
  line = logged.msg.split('connect with: ')[1] ?? '';
  await start.waitFor(/Runwarden is ready/, 60_000);
}, 120_000);

afterAll(async () => {
  for (const child of others) if (child.exitCode === null) child.kill('SIGKILL');
  start.child.kill('SIGTERM');
  await start.exited;
  await rm(root, { recursive: true, force: true });
});

/** Runs `<line> runwarden <args>` in a shell whose environment has no other database settings. */
function withLine(args: string[], env: Record<string, string> = {}) {
  const { DATABASE_URL: _u, PGPASSFILE: _p, PGPASSWORD: _w, ...base } = process.env;
  const command = `${line} exec "$NODE_BIN" --import tsx src/cli/main.ts ${args.join(' ')}`;
  const child = spawn('sh', ['-c', command], {
    cwd: ROOT,
    env: { ...base, NODE_BIN: process.execPath, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  others.push(child);
  let text = '';
  child.stdout.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const waitFor = async (pattern: RegExp, within = 30_000) => {
    const deadline = Date.now() + within;
    while (!pattern.test(text)) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`no ${pattern} from ${args.join(' ')}:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, waitFor, output: () => text };
}

describe('the embedded database line', () => {
  it('is PGPASSFILE=… DATABASE_URL=… with no password in it', () => {
    expect(line).toMatch(
      /^PGPASSFILE=\S+ DATABASE_URL=postgresql:\/\/runwarden@127\.0\.0\.1:\d+\/runwarden$/,
    );
  });

  it('`runwarden worker` with exactly that environment connects and runs', async () => {
    const worker = withLine(['worker', '--concurrency', '2']);
    await worker.waitFor(/"msg":"worker started"/);
    expect(worker.output()).not.toMatch(/password authentication failed|DeprecationWarning/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('`runwarden serve` with exactly that environment answers /api/health with the database ok', async () => {
    const port = await freePort();
    const serve = withLine(['serve'], { PORT: String(port) });
    await serve.waitFor(/Runwarden API listening/);
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
