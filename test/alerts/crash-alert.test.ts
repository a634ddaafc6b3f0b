import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRules } from '../../src/alerts/rules.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { startRun } from '../../src/execution/start.js';
import { RunService } from '../../src/runs/run-service.js';
import { catalog } from '../fleet/support.js';
import { type CliProcess, spawnCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase, until } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

// Issue 24 point 4: alerts are part of the promise. A worker process is killed with SIGKILL while
// it runs a run; another worker process reconciles the run (its heartbeat is lost) and, through
// the queue, pages the rule's webhook within a minute of that detection.

const registry = new OperationRegistry(catalog);
let t: TestDatabase;
let scope: Scope;
const processes: CliProcess[] = [];
const received: Array<{ at: number; body: string }> = [];
let server: http.Server;

beforeAll(async () => {
  t = await freshDatabase();
  scope = await seedScope(t.db);
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ at: Date.now(), body });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
afterAll(async () => {
  for (const cli of processes) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
  server?.close();
});

async function spawnWorker(reconcileEverySeconds: number) {
  const cli = spawnCli(['worker', '--concurrency', '2'], {
    DATABASE_URL: t.url,
    RUNWARDEN_CONFIG: 'test/fleet/support.ts',
    RUNWARDEN_RECONCILE_INTERVAL_SECONDS: String(reconcileEverySeconds),
    RUNWARDEN_ALERTS_PRIVATE_URLS: 'true',
    RUNWARDEN_PUBLIC_URL: 'https://ops.example.test',
  });
  processes.push(cli);
  const line = await cli.waitFor(/"msg":"worker started"/, 30_000);
  return { cli, workerId: (JSON.parse(line) as { workerId: string }).workerId };
}

describe('a worker killed with SIGKILL', () => {
  it('pages the reconciled-run rule within 60 s of the detection', {
    timeout: 120_000,
  }, async () => {
    await alertRules(t.db).create(
      scope.workspaceId,
      {
        name: 'Worker died',
        condition: { kind: 'run_ended', outcomes: ['reconciled'] },
        destination: {
          kind: 'webhook',
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/page`,
        },
      },
      { userId: null, kind: 'system' },
    );
    const victim = await spawnWorker(3600);
    const { run } = await startRun(
      { db: t.db, runs: new RunService({ db: t.db }), registry },
      {
        type: 'fleet.crash',
        workspaceId: scope.workspaceId,
        tenantId: scope.tenantId,
        input: { key: 'crash-alert', plan: { prod: 'wait' } },
        initiatorUserId: scope.userId,
      },
    );
    await until(
      async () => {
        const row = await t.db
          .selectFrom('operation_runs')
          .select(['status', 'worker_id'])
          .where('id', '=', run.id)
          .executeTakeFirstOrThrow();
        return row.status === 'running' && row.worker_id === victim.workerId;
      },
      { within: 20_000, what: 'the victim to run it' },
    );
    victim.cli.child.kill('SIGKILL');
    await victim.cli.exited;
    // The survivor sweeps every 0.5 s and runs the alert jobs.
    await spawnWorker(0.5);
    const reconciled = await until(
      async () => {
        const row = await t.db
          .selectFrom('operation_runs')
          .select(['completed_at', 'reconciliation'])
          .where('id', '=', run.id)
          .executeTakeFirstOrThrow();
        return row.reconciliation ? row : undefined;
      },
      { within: 30_000, what: 'the run to be reconciled' },
    );
    const page = await until(() => received.find((r) => r.body.includes(run.id)), {
      within: 60_000,
      what: 'the page',
    });
    const detected = reconciled.completed_at?.getTime() ?? 0;
    expect(page.at - detected).toBeLessThan(60_000);
    expect(JSON.parse(page.body)).toMatchObject({
      rule: { name: 'Worker died' },
      count: 1,
      runs: [
        {
          id: run.id,
          outcome: 'reconciled',
          link: `https://ops.example.test/admin/operations/${run.id}`,
        },
      ],
    });
    // Recorded once the receiver's answer came back.
    const deliveries = await until(
      async () => {
        const rows = await t.db.selectFrom('alert_deliveries').selectAll().execute();
        return rows[0]?.status === 'delivered' ? rows : undefined;
      },
      { what: 'the delivery recorded' },
    );
    expect(deliveries).toMatchObject([{ status: 'delivered', attempts: 1, count: 1 }]);
  });
});
