import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/db/embedded/recovery.js';
import { migrations } from '../../src/db/migrations/index.js';
import { spawnCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';

const DEMO = 'test/fixtures/demo-catalog.ts';

describe('runwarden CLI', () => {
  it.each([
    [[]],
    [['start']],
    [['migrate']],
    [['worker']],
    [['schedules']],
    [['validate']],
    [['reconcile']],
    [['prune']],
    [['serve']],
    [['seed-demo']],
    [['fleet', 'start']],
    [['fleet', 'retry']],
  ])('prints help for %j', async (verb) => {
    const cli = spawnCli([...verb, '--help']);
    const { code } = await cli.exited;
    expect(code).toBe(0);
    expect(cli.output()).toMatch(/^Usage: runwarden/m);
  });

  it('fleet retry refuses what is not a run id before it opens the database', async () => {
    const cli = spawnCli(['fleet', 'retry', 'last-week']);
    expect((await cli.exited).code).toBe(1);
    expect(cli.output()).toContain('"last-week" is not a run id.');
  });

  it('worker --help names its default concurrency (8) and the pool it takes', async () => {
    const cli = spawnCli(['worker', '--help']);
    expect((await cli.exited).code).toBe(0);
    expect(cli.output()).toMatch(
      /--concurrency <n>\s+jobs this process runs at once \(default: 8\)/,
    );
    expect(cli.output()).toMatch(/max\(10, concurrency \+ 3\)/);
  });

  it('migrates a given DATABASE_URL, twice without complaint', async () => {
    const { url } = await freshDatabase({ empty: true });
    const all = Object.keys(migrations).length;
    for (const expected of [new RegExp(`applied ${all} migration\\(s\\)`), /already up to date/]) {
      const cli = spawnCli(['migrate'], { DATABASE_URL: url });
      const { code } = await cli.exited;
      expect(code, cli.output()).toBe(0);
      expect(cli.output()).toMatch(expected);
      expect(cli.output()).not.toContain(new URL(url).password); // the password never reaches a log
    }
  });

  it('lists the demo catalog schedules', async () => {
    const cli = spawnCli(['schedules'], { RUNWARDEN_CONFIG: DEMO });
    expect((await cli.exited).code).toBe(0);
    expect(cli.output()).toMatch(/nightly-backup\s+backup_schedule\.run\s+0 2 \* \* \*/);
  });

  it('validate passes the demo catalog', async () => {
    const cli = spawnCli(['validate'], { RUNWARDEN_CONFIG: DEMO });
    expect((await cli.exited).code, cli.output()).toBe(0);
    expect(cli.output()).toMatch(
      /catalog ok: 13 operation types, 1 schedule\(s\); policies aligned/,
    );
  });

  it('validate and schedules without RUNWARDEN_CONFIG check no demo: they say how to add a catalog and exit 1', async () => {
    for (const verb of ['validate', 'schedules']) {
      const cli = spawnCli([verb]);
      expect((await cli.exited).code).toBe(1);
      expect(cli.output()).toMatch(
        /runwarden: no operation catalog: RUNWARDEN_CONFIG is not set.*RUNWARDEN_CONFIG=catalog\.ts/,
      );
    }
  });

  it('validate says what is wrong with a RUNWARDEN_CONFIG it cannot load: extension, missing file, CommonJS', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'runwarden-catalog-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'catalog.json'), '[]');
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }));
    await writeFile(path.join(dir, 'catalog.ts'), 'export const catalog = [];\n');
    const cases: Array<[string, RegExp]> = [
      [
        'catalog.json',
        /RUNWARDEN_CONFIG=.*catalog\.json: a catalog is a module ending in \.ts, \.mts, \.js, \.mjs, \.cjs, not "\.json"/,
      ],
      ['missing.ts', /RUNWARDEN_CONFIG=.*missing\.ts: no such file \(.*missing\.ts\)/],
      [
        'catalog.ts',
        /RUNWARDEN_CONFIG=.*catalog\.ts would load as CommonJS: .*package\.json has no "type": "module"\. Add it \(`npm pkg set type=module`\) or name the file \.mts/,
      ],
    ];
    for (const [file, message] of cases) {
      const cli = spawnCli(['validate'], { RUNWARDEN_CONFIG: path.join(dir, file) });
      expect((await cli.exited).code).toBe(1);
      expect(cli.output()).toMatch(message);
    }
  });

  it('validate names every misaligned policy of a catalog and exits 1; worker refuses to boot on it', async () => {
    const env = { RUNWARDEN_CONFIG: 'test/fixtures/misaligned-catalog.ts' };
    const cli = spawnCli(['validate'], env);
    expect((await cli.exited).code).toBe(1);
    const out = cli.output();
    expect(out).toMatch(/6 problem\(s\) in the catalog/); // bad.queued breaks two rules
    expect(out).toMatch(
      /bad\.timeout: timeoutSeconds \(1200\) \+ 30 s margin must stay below runningStaleAfterSeconds \(1200\)/,
    );
    expect(out).toMatch(/bad\.heartbeat: 3 × heartbeatSeconds \(1500\)/);
    expect(out).toMatch(/bad\.backoff: retries \(8\) wait/);
    expect(out).toMatch(/bad\.queued: queuedStaleAfterSeconds \(5\)/);
    expect(out).toMatch(/bad\.key: unknown lifecycle setting "timeoutSecs"/);
    expect(out).not.toMatch(/good\.one/);

    const worker = spawnCli(['worker'], {
      ...env,
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
    });
    expect((await worker.exited).code).toBe(1);
    expect(worker.output()).toMatch(/invalid lifecycle or flow policy/);
  });

  it('serve listens on PORT and answers /api/health over a real socket; SIGTERM stops it', async () => {
    const { url } = await freshDatabase();
    const port = await freePort();
    const cli = spawnCli(['serve'], { DATABASE_URL: url, PORT: String(port) });
    await cli.waitFor(/Runwarden API listening/, 30_000);
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('worker refuses to run without DATABASE_URL and says which database to use', async () => {
    const cli = spawnCli(['worker']);
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.output()).toMatch(/runwarden worker needs DATABASE_URL/);
  });

  it('rejects bad configuration with a clear message and exit code 1', async () => {
    const cli = spawnCli(['migrate'], { PORT: 'eighty' });
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.output()).toMatch(/runwarden: Invalid configuration: PORT/);
  });
});
