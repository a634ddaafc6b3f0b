import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRunwarden, type Runwarden } from '../../src/index.js';
import { catalog } from '../fixtures/fast-catalog.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';
import { quietLogger } from '../support/worker.js';

// DESIGN §15: a platform that embeds the LIBRARY gets terminal truth. Real child processes run
// test/fixtures/library-process.ts (createRunwarden, not the CLI); one is really killed.
const ROOT = path.resolve(import.meta.dirname, '../..');
const SWEEP_SECONDS = 0.5;

interface Child {
  child: ChildProcess;
  ready: Promise<{ workerId: string | null }>;
  exited: Promise<unknown>;
}

function spawnLibrary(role: 'worker' | 'reconciler', databaseUrl: string): Child {
  const { DATABASE_URL: _ignored, ...base } = process.env;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/fixtures/library-process.ts')],
    {
      cwd: ROOT,
      env: {
        ...base,
        DATABASE_URL: databaseUrl,
        RUNWARDEN_ROLE: role,
        RUNWARDEN_RECONCILE_INTERVAL_SECONDS: String(SWEEP_SECONDS),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise<{ workerId: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} not ready:\n${text}`)), 30_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n').find((l) => l.includes('"msg":"library ready"'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { workerId: string | null });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${role} exited before it was ready:\n${text}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited };
}

let t: TestDatabase;
let scope: Scope;
let rw: Runwarden;
const children: Child[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  // This process only starts runs and reads them: no worker, no reconciler here.
  rw = createRunwarden({ databaseUrl: t.url, operations: catalog, logger: quietLogger });
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(async () => {
  await rw.close();
});

async function startSlowRun(tag: string) {
  const { run } = await rw.start({
    type: 'test.slow',
    workspaceId: scope.workspaceId,
    tenantId: scope.tenantId,
    input: { seconds: 60, tag },
    initiatorUserId: scope.userId,
  });
  return run.id;
}

async function reconciledAfterKill(runId: string, workers: Map<string, Child>) {
  const running = await until(
    async () => {
      const r = await rw.runs.get(runId);
      return r?.status === 'running' && r.worker_id ? r : undefined;
    },
    { within: 15_000, what: 'a library worker to run it' },
  );
  const holder = workers.get(running.worker_id ?? '');
  expect(holder).toBeDefined();
  holder?.child.kill('SIGKILL');
  const run = await until(
    async () => {
      const r = await rw.runs.get(runId);
      return r?.status === 'completed' ? r : undefined;
    },
    { within: 10_000, what: 'the reconciler to end the run' },
  );
  // The CLI's rule (test/lifecycle/crash.test.ts): lost after 3 × the 1 s heartbeat; timing is bench's.
  expect(run).toMatchObject({
    outcome: 'failed',
    reconciliation: {
      reasonCode: 'run.heartbeat_lost',
      source: 'reconciler',
      thresholdSeconds: 3,
    },
  });
  const events = await t.db
    .selectFrom('run_events')
    .select(['kind'])
    .where('run_id', '=', runId)
    .execute();
  expect(events.map((e) => e.kind)).toContain('reconciled');
}

describe('the library keeps the promise', () => {
  it('rw.reconciler() in one process ends the run of an rw.worker() process killed with SIGKILL', async () => {
    const worker = spawnLibrary('worker', t.url);
    const reconciler = spawnLibrary('reconciler', t.url);
    children.push(worker, reconciler);
    const { workerId } = await worker.ready;
    await reconciler.ready;
    const runId = await startSlowRun('reconciler-alone');
    await reconciledAfterKill(runId, new Map([[workerId ?? '', worker]]));
  });

  it('rw.worker() runs the reconciler loop too: the surviving worker ends the killed one’s run', async () => {
    const a = spawnLibrary('worker', t.url);
    const b = spawnLibrary('worker', t.url);
    children.push(a, b);
    const [ra, rb] = await Promise.all([a.ready, b.ready]);
    const runId = await startSlowRun('worker-loop');
    await reconciledAfterKill(
      runId,
      new Map([
        [ra.workerId ?? '', a],
        [rb.workerId ?? '', b],
      ]),
    );
  });
});
