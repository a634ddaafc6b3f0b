import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

/**
 * DESIGN §16 "no silent stop" at boot, with connections really exhausted: the worker's role may
 * open only LIMIT connections, and this file holds all of them but `free` when a real
 * `runwarden worker` boots, so its boot, its queue runner (task lookup, LISTEN) or its heartbeat
 * thread is refused with PostgreSQL's own "too many connections" (53300). Then the connections
 * are freed. A worker booted so must run jobs once connections free up, or say so (warn or worse)
 * and exit non-zero for its supervisor — never stay up with slots that run nothing.
 */

const LIMIT = 16;
const t = await freshDatabase();
const registry = new OperationRegistry(demoCatalog());
const runs = new RunService({ db: t.db });
let scope: Scope;
let limitedUrl: string;
let role: string;
let held: pg.Client[] = [];
let worker: CliProcess | undefined;

beforeAll(async () => {
  scope = await seedScope(t.db);
  role = `rw_limited_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: t.url });
  await admin.connect();
  const { rows } = await admin.query<{ me: string }>('select current_user as me');
  // Not a superuser (a connection limit does not bind one), but it holds the owner's privileges.
  await admin.query(
    `create role ${role} login password '${password}' connection limit ${LIMIT} in role "${rows[0]?.me}"`,
  );
  await admin.end();
  const url = new URL(t.url);
  url.username = role;
  url.password = password;
  limitedUrl = url.toString();
});

afterEach(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await Promise.all(held.map((c) => c.end().catch(() => undefined)));
  held = [];
});

afterAll(async () => {
  await sql`drop role if exists ${sql.id(role)}`.execute(t.db).catch(() => undefined);
});

async function holdAllBut(free: number): Promise<void> {
  for (let i = 0; i < LIMIT - free; i++) {
    const client = new pg.Client({ connectionString: limitedUrl });
    client.on('error', () => undefined);
    await client.connect();
    held.push(client);
  }
}

describe('a worker booted while connections are exhausted', () => {
  it.each([0, 1, 3, 6])(
    'with %i connection(s) free: runs jobs once they free up, or says so and exits non-zero',
    async (free) => {
      await holdAllBut(free);
      worker = spawnCli(['worker', '--concurrency', '2', '--shutdown-grace', '0.5'], {
        DATABASE_URL: limitedUrl,
        RUNWARDEN_CONFIG: 'test/fixtures/demo-catalog.ts',
        RUNWARDEN_DB_CONNECT_TIMEOUT_MS: '1000',
      });
      const w = worker;
      // Let the boot meet the refusals: until it has said something of it, or exited.
      await until(
        () => /too many connections|"level":[456]0/.test(w.output()) || w.child.exitCode !== null,
        {
          within: 30_000,
          what: 'the worker to meet the exhausted connections',
        },
      );
      await Promise.all(held.map((c) => c.end().catch(() => undefined)));
      held = [];

      const { run } = await startRun(
        { db: t.db, runs, registry },
        {
          type: 'demo.sleep',
          workspaceId: scope.workspaceId,
          tenantId: scope.tenantId,
          input: { seconds: 0, tag: `free-${free}` },
          initiatorUserId: scope.userId,
        },
      );
      let exit: { code: number | null } | undefined;
      void w.exited.then(({ code }) => {
        exit = { code };
      });
      const outcome = await until(
        async () => {
          const current = await runs.get(run.id);
          if (current?.status === 'completed') return { completed: current.outcome };
          return exit;
        },
        { within: 60_000, what: 'the run to complete or the worker to exit' },
      );
      const output = w.output();
      console.info(
        `boot with ${free} of ${LIMIT} connections free: ${
          'completed' in outcome ? `run ${outcome.completed}` : `worker exited ${outcome.code}`
        }`,
      );
      if ('completed' in outcome) {
        expect(outcome.completed).toBe('succeeded');
      } else {
        expect(outcome.code).not.toBe(0);
        // A log line at warn or worse, or the CLI's own last word on stderr.
        expect(output).toMatch(/"level":(40|50|60),|^runwarden: .*too many connections/m);
      }
    },
    120_000,
  );
});
