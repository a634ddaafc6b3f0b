import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded/cluster.js';
import { freePort } from '../../src/db/embedded/recovery.js';
import { type CliProcess, processesMentioning, spawnCli } from '../support/cli.js';
import { settlesWithin, until } from '../support/db.js';

/**
 * DESIGN §16, signals at any moment: SIGINT/SIGTERM while `runwarden start` boots (the embedded
 * PostgreSQL starting, a migration, the demo seed) exit within 10 s and leave no PostgreSQL
 * behind; a second signal exits at once. Real processes, a real cluster, real signals. To catch
 * a migration or the seed in the act, the cluster is prepared so that step blocks in the database
 * (pg_sleep in a trigger) until the process abandons it.
 */

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const EXIT_CODE = { SIGINT: 130, SIGTERM: 143 } as const;
const PASSWORD = 'signals-demo-password';
let root: string;
const spawned: CliProcess[] = [];
const measured: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'runwarden-signals-'));
  await chmod(root, 0o755); // as root, PostgreSQL runs as the postgres user, which must reach it
});

afterAll(async () => {
  for (const cli of spawned) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
  console.log(`exit times after the signal:\n  ${measured.join('\n  ')}`);
});

interface Embedded {
  dataDir: string;
  port: number;
  env: Record<string, string>;
}

let dirs = 0;
async function embedded(): Promise<Embedded> {
  const dataDir = path.join(root, `d${++dirs}`);
  const port = await freePort();
  const env = {
    RUNWARDEN_DATA_DIR: dataDir,
    RUNWARDEN_PG_PORT: String(port),
    PORT: String(await freePort()),
    RUNWARDEN_DEMO_PASSWORD: PASSWORD,
  };
  return { dataDir, port, env };
}

function start(where: Embedded): CliProcess {
  const cli = spawnCli(['start'], where.env);
  spawned.push(cli);
  return cli;
}

/** The embedded cluster's URL, with the password from its pgpass file. */
async function clusterUrl(where: Embedded): Promise<string> {
  const pgpass = await readFile(path.join(where.dataDir, 'pgpass'), 'utf8');
  const password = pgpass.trim().split(':').at(-1) ?? '';
  return `postgresql://runwarden:${encodeURIComponent(password)}@127.0.0.1:${where.port}/runwarden`;
}

/**
 * A migrated cluster (`runwarden migrate`, for real), then `sql` run on it with the cluster up
 * in this process; it is stopped again before the test's `start`.
 */
async function prepare(where: Embedded, statements: string[]): Promise<void> {
  const migrate = spawnCli(['migrate'], where.env);
  spawned.push(migrate);
  expect((await migrate.exited).code, migrate.output()).toBe(0);
  const cluster = await startEmbeddedPostgres({
    dataDir: where.dataDir,
    port: where.port,
    logger: pino({ level: 'warn' }),
  });
  try {
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    for (const statement of statements) await client.query(statement);
    await client.end();
  } finally {
    await cluster.stop();
  }
}

/** Resolves once a backend of the cluster sleeps in pg_sleep: the step under test is stuck. */
async function blockedInDatabase(where: Embedded): Promise<void> {
  const client = new pg.Client({ connectionString: await clusterUrl(where) });
  await client.connect();
  try {
    await until(
      async () => {
        const { rowCount } = await client.query(
          "select 1 from pg_stat_activity where wait_event = 'PgSleep'",
        );
        return (rowCount ?? 0) > 0;
      },
      { within: 30_000, every: 50, what: 'the boot step to block in the database' },
    );
  } finally {
    await client.end();
  }
}

/** Sends `signal`; resolves with the exit and how long it took. */
/** Signals `cli` and waits for its exit, failing past `deadlineMs`; the time taken is only printed. */
async function interrupt(
  cli: CliProcess,
  signal: NodeJS.Signals,
  what: string,
  deadlineMs = 10_000,
) {
  const t0 = performance.now();
  cli.child.kill(signal);
  const exit = await settlesWithin(cli.exited, deadlineMs, `exit after ${signal} ${what}`);
  measured.push(`${signal} ${what}: ${Math.round(performance.now() - t0)} ms (exit ${exit.code})`);
  return exit;
}

/** The postmaster's pid, from start's log line. */
async function postmasterPid(cli: CliProcess): Promise<number> {
  const line = await cli.waitFor(/"postgresPid":\d+/);
  return (JSON.parse(line) as { postgresPid: number }).postgresPid;
}

async function refusesConnections(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Live (not zombie) processes of process group `pgid`: a postmaster leads its own, with its backends. */
async function processGroup(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp …
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/** Nothing of the cluster runs: no process names its directory or is the postmaster's, the port is closed. */
async function expectNoPostgres(where: Embedded, pid?: number): Promise<void> {
  expect(await processesMentioning(where.dataDir)).toEqual([]);
  if (pid !== undefined) expect(await processGroup(pid)).toEqual([]);
  expect(await refusesConnections(where.port)).toBe(true);
}

describe('a signal while `runwarden start` boots', () => {
  it.each(SIGNALS)(
    '%s during initdb: exits within 10 s, none left; the next start creates the cluster',
    {
      timeout: 90_000,
    },
    async (signal) => {
      const where = await embedded();
      const cli = start(where);
      await cli.waitFor(/creating the embedded PostgreSQL cluster/);
      await until(async () => (await processesMentioning(`--pgdata=${where.dataDir}`)).length > 0, {
        within: 30_000,
        every: 10,
        what: 'initdb to run',
      });
      const exit = await interrupt(cli, signal, 'during initdb');
      expect(exit.code, cli.output()).toBe(EXIT_CODE[signal]);
      expect(cli.output()).toMatch(/interrupted during boot: starting the embedded PostgreSQL/);
      await expectNoPostgres(where);
      // initdb was stopped, and removed what it had written.
      expect(await readdir(path.join(where.dataDir, 'pg'))).toEqual([]);

      // The data dir still works: the next command creates the cluster in the directory left empty.
      const again = spawnCli(['migrate'], where.env);
      spawned.push(again);
      expect((await again.exited).code, again.output()).toBe(0);
      expect(again.output()).toMatch(/creating the embedded PostgreSQL cluster/);
      await expectNoPostgres(where);
    },
  );

  it.each(SIGNALS)(
    '%s as soon as the postmaster is spawned: exits within 10 s, none left',
    {
      timeout: 90_000,
    },
    async (signal) => {
      const where = await embedded();
      const cli = start(where);
      await cli.waitFor(/creating the embedded PostgreSQL cluster/);
      const [postmaster] = await until(
        async () => {
          const found = await processesMentioning(`postgres -D ${where.dataDir}`);
          return found.length > 0 && found;
        },
        { within: 30_000, every: 10, what: 'the postmaster to be spawned' },
      );
      const exit = await interrupt(cli, signal, 'while the postmaster starts');
      expect(exit.code, cli.output()).toBe(EXIT_CODE[signal]);
      expect(cli.output()).toMatch(
        /interrupted during boot: (starting the embedded PostgreSQL|migrating)/,
      );
      await expectNoPostgres(where, postmaster);
    },
  );

  it.each(SIGNALS)(
    '%s during a migration that hangs: abandons it, exits within 10 s, stops PostgreSQL',
    {
      timeout: 90_000,
    },
    async (signal) => {
      const where = await embedded();
      // The latest migration is pending again, and any DDL sleeps for an hour.
      await prepare(where, [
        'delete from kysely_migration where name = (select max(name) from kysely_migration)',
        `create function hang_ddl() returns event_trigger language plpgsql as
         $$ begin perform pg_sleep(3600); end $$`,
        'create event trigger hang_ddl on ddl_command_start execute function hang_ddl()',
      ]);
      const cli = start(where);
      const pid = await postmasterPid(cli);
      await cli.waitFor(/"msg":"migrating the database"/);
      await blockedInDatabase(where);
      const exit = await interrupt(cli, signal, 'during a migration');
      expect(exit.code, cli.output()).toBe(EXIT_CODE[signal]);
      expect(cli.output()).toMatch(/interrupted during boot: migrating the database/);
      await expectNoPostgres(where, pid);
    },
  );

  it.each(SIGNALS)(
    '%s during the demo seed: abandons it, exits within 10 s, stops PostgreSQL',
    {
      timeout: 90_000,
    },
    async (signal) => {
      const where = await embedded();
      // The 26th demo run's insert sleeps for an hour: the seed is mid-way when the signal comes.
      await prepare(where, [
        `create function hang_seed() returns trigger language plpgsql as
         $$ begin
              if (select count(*) from operation_runs) >= 25 then perform pg_sleep(3600); end if;
              return new;
            end $$`,
        'create trigger hang_seed before insert on operation_runs for each row execute function hang_seed()',
      ]);
      const cli = start(where);
      const pid = await postmasterPid(cli);
      await cli.waitFor(/historical runs: 25\//);
      await blockedInDatabase(where);
      const exit = await interrupt(cli, signal, 'during the demo seed');
      expect(exit.code, cli.output()).toBe(EXIT_CODE[signal]);
      expect(cli.output()).toMatch(/interrupted during boot: seeding the demo/);
      await expectNoPostgres(where, pid);
    },
  );

  it('a second signal exits at once, and still takes PostgreSQL down with it', {
    timeout: 120_000,
  }, async () => {
    const where = await embedded();
    const cli = start(where);
    const pid = await postmasterPid(cli);
    await cli.waitFor(/Runwarden is ready/);
    // The demo's live 300 s run is in this worker's hands: a graceful stop waits 3 s for it.
    const client = new pg.Client({ connectionString: await clusterUrl(where) });
    await client.connect();
    await until(
      async () => {
        const { rowCount } = await client.query(
          `select 1 from operation_runs r join workers w on w.id = r.worker_id
            where r.status = 'running' and w.pid = $1`,
          [cli.child.pid],
        );
        return (rowCount ?? 0) > 0;
      },
      { within: 30_000, every: 100, what: 'the live demo run to be running' },
    );
    await client.end();

    cli.child.kill('SIGINT');
    await cli.waitFor(/worker stopping: no new jobs/);
    // Past 2 s it waited for the graceful stop (the grace alone is 3 s).
    const exit = await interrupt(cli, 'SIGINT', 'second signal, during the graceful stop', 2_000);
    expect(exit.code, cli.output()).toBe(130);
    expect(cli.output()).toMatch(/second signal: exiting without finishing the shutdown/);
    await expectNoPostgres(where, pid);
  });

  it('a boot that fails (the HTTP port is taken) stops the PostgreSQL it started and exits 1', {
    timeout: 90_000,
  }, async () => {
    const where = await embedded();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(where.env.PORT), resolve));
    try {
      const cli = start(where);
      const pid = await postmasterPid(cli);
      const exit = await cli.exited;
      expect(exit.code, cli.output()).toBe(1);
      expect(cli.output()).toMatch(/runwarden: .*EADDRINUSE/);
      await expectNoPostgres(where, pid);
    } finally {
      blocker.close();
    }
  });
});
