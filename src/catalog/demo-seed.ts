import type { Kysely } from 'kysely';
import { hashPassword } from '../access/passwords.js';
import type { Database, Role } from '../db/schema.js';
import type { ReasonCode } from '../domain/reason-codes.js';
import type { TerminalOutcome } from '../domain/run.js';
import { uuidv7 } from '../domain/uuid.js';
import type { OperationRegistry } from '../execution/registry.js';
import { startRun } from '../execution/start.js';
import { RunService } from '../runs/run-service.js';

/** The demo logins (DESIGN §13); all share one password. */
export const DEMO_LOGINS = [
  { email: 'owner@demo.test', description: 'Owner of Contoso (every surface, tokens)' },
  { email: 'operator@demo.test', description: 'Operator at Contoso (view and start)' },
  { email: 'readonly@demo.test', description: 'Read-only at Contoso' },
  { email: 'outsider@demo.test', description: 'Owner of Fabrikam only (sees nothing of Contoso)' },
  { email: 'platform@demo.test', description: 'Platform staff (system plane)' },
] as const;

export interface DemoSeedResult {
  seeded: boolean;
  runs: number;
}

interface DemoIds {
  contoso: string;
  fabrikam: string;
  prod: string;
  dev: string;
  legacy: string;
  fabrikamProd: string;
  owner: string;
  operator: string;
}

/**
 * Seeds the demo of DESIGN §13 once: workspaces, tenants, the five logins, and three weeks of
 * runs in every problem class, written through RunService at their historical times (so timelines,
 * notifications and truth are what real runs would have left). With `live`, it also starts a few
 * real runs for the worker to pick up. A second call changes nothing but the password, if given.
 */
export async function seedDemo(
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  options: {
    password?: string;
    /** Seed the three weeks of runs (default true). */
    history?: boolean;
    live?: boolean;
    now?: Date;
    progress?: (message: string) => void;
  },
): Promise<DemoSeedResult> {
  const say = options.progress ?? (() => undefined);
  const exists = await deps.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', 'contoso')
    .executeTakeFirst();
  if (exists) {
    if (options.password) {
      const hash = await hashPassword(options.password);
      await deps.db
        .updateTable('users')
        .set({ password_hash: hash })
        .where(
          'email',
          'in',
          DEMO_LOGINS.map((l) => l.email),
        )
        .execute();
      say('demo already seeded; demo password updated');
    } else say('demo already seeded; nothing to do');
    return { seeded: false, runs: 0 };
  }
  if (!options.password) throw new Error('seedDemo needs a password for the demo logins');
  const ids = await seedPeople(deps.db, await hashPassword(options.password));
  say('workspaces contoso and fabrikam, 4 tenants, 5 logins');
  const now = options.now ?? new Date();
  const runs = options.history === false ? 0 : await seedHistory(deps.db, ids, now, say);
  if (options.live) await startLive(deps, ids);
  return { seeded: true, runs };
}

async function seedPeople(db: Kysely<Database>, passwordHash: string): Promise<DemoIds> {
  const ids: DemoIds = {
    contoso: uuidv7(),
    fabrikam: uuidv7(),
    prod: uuidv7(),
    dev: uuidv7(),
    legacy: uuidv7(),
    fabrikamProd: uuidv7(),
    owner: uuidv7(),
    operator: uuidv7(),
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('workspaces')
      .values([
        { id: ids.contoso, slug: 'contoso', name: 'Contoso' },
        { id: ids.fabrikam, slug: 'fabrikam', name: 'Fabrikam' },
      ])
      .execute();
    await trx
      .insertInto('tenants')
      .values([
        {
          id: ids.prod,
          workspace_id: ids.contoso,
          slug: 'contoso-prod',
          name: 'Contoso Production',
        },
        {
          id: ids.dev,
          workspace_id: ids.contoso,
          slug: 'contoso-dev',
          name: 'Contoso Development',
        },
        {
          id: ids.legacy,
          workspace_id: ids.contoso,
          slug: 'contoso-legacy',
          name: 'Contoso Legacy',
          status: 'inactive',
        },
        {
          id: ids.fabrikamProd,
          workspace_id: ids.fabrikam,
          slug: 'fabrikam-prod',
          name: 'Fabrikam Production',
        },
      ])
      .execute();
    const readonly = uuidv7();
    const outsider = uuidv7();
    const platform = uuidv7();
    await trx
      .insertInto('users')
      .values([
        {
          id: ids.owner,
          email: 'owner@demo.test',
          name: 'Olivia Owner',
          password_hash: passwordHash,
        },
        {
          id: ids.operator,
          email: 'operator@demo.test',
          name: 'Oscar Operator',
          password_hash: passwordHash,
        },
        {
          id: readonly,
          email: 'readonly@demo.test',
          name: 'Rita Readonly',
          password_hash: passwordHash,
        },
        {
          id: outsider,
          email: 'outsider@demo.test',
          name: 'Otto Outsider',
          password_hash: passwordHash,
        },
        {
          id: platform,
          email: 'platform@demo.test',
          name: 'Pat Platform',
          password_hash: passwordHash,
          platform_capabilities: ['system.ops.view', 'system.ops.triage'],
        },
      ])
      .execute();
    const member = (workspace_id: string, user_id: string, role: Role) => ({
      id: uuidv7(),
      workspace_id,
      user_id,
      role,
      tenant_ids: null,
    });
    await trx
      .insertInto('memberships')
      .values([
        member(ids.contoso, ids.owner, 'owner'),
        member(ids.contoso, ids.operator, 'operator'),
        member(ids.contoso, readonly, 'readonly'),
        member(ids.fabrikam, outsider, 'owner'),
      ])
      .execute();
  });
  return ids;
}

type Ending =
  | { outcome: TerminalOutcome; failure?: { code: string; message: string } }
  | { reconcile: ReasonCode; status: 'queued' | 'running' };

interface HistoricRun {
  type: string;
  tenant: keyof DemoIds | null;
  by: 'owner' | 'operator' | null;
  daysAgo: number;
  minutes: number;
  total?: number;
  ending: Ending;
}

const TYPES = [
  'inventory.sync',
  'policy.sync',
  'directory_groups.sync',
  'baseline.compare',
  'drift.generate',
];

/** Three weeks of history: mostly successes, and at least one run in every problem class. */
function history(): HistoricRun[] {
  const runs: HistoricRun[] = [];
  for (let day = 20; day >= 1; day--) {
    TYPES.forEach((type, i) => {
      if ((day + i) % 2 === 0) {
        runs.push({
          type,
          tenant: i % 3 === 0 ? 'dev' : 'prod',
          by: i % 2 === 0 ? 'owner' : 'operator',
          daysAgo: day + i / 10,
          minutes: 2 + i,
          total: 40 + i * 20,
          ending: { outcome: 'succeeded' },
        });
      }
    });
    runs.push({
      type: 'backup_schedule.run',
      tenant: 'prod',
      by: null,
      daysAgo: day - 0.9,
      minutes: 6,
      total: 150,
      ending: { outcome: 'succeeded' },
    });
  }
  const fail = (code: string, message: string) => ({
    outcome: 'failed' as const,
    failure: { code, message },
  });
  runs.push(
    {
      type: 'policy.sync',
      tenant: 'prod',
      by: 'operator',
      daysAgo: 3.2,
      minutes: 4,
      total: 60,
      ending: fail(
        'handler.error',
        'The tenant rejected the request: the app registration lacks Policy.Read.All.',
      ),
    },
    {
      type: 'drift.generate',
      tenant: 'dev',
      by: 'owner',
      daysAgo: 0.6,
      minutes: 3,
      total: 40,
      ending: fail('handler.error', 'The baseline this report compares against was deleted.'),
    },
    {
      type: 'baseline.capture',
      tenant: 'prod',
      by: 'owner',
      daysAgo: 1.4,
      minutes: 5,
      total: 80,
      ending: {
        outcome: 'partially_succeeded',
        failure: { code: 'handler.error', message: '3 of 80 settings could not be read.' },
      },
    },
    {
      type: 'inventory.sync',
      tenant: 'legacy',
      by: 'operator',
      daysAgo: 2.1,
      minutes: 0,
      ending: {
        outcome: 'blocked',
        failure: {
          code: 'gate.tenant_inactive',
          message: 'The tenant is inactive, so the operation was not run.',
        },
      },
    },
    {
      type: 'review_pack.generate',
      tenant: null,
      by: 'owner',
      daysAgo: 4.5,
      minutes: 1,
      ending: {
        outcome: 'cancelled',
        failure: { code: 'run.cancelled', message: 'Cancelled by Olivia Owner.' },
      },
    },
    {
      type: 'directory_groups.sync',
      tenant: 'prod',
      by: 'owner',
      daysAgo: 0.3,
      minutes: 9,
      total: 200,
      ending: { reconcile: 'run.heartbeat_lost', status: 'running' },
    },
    {
      type: 'baseline.compare',
      tenant: 'dev',
      by: 'operator',
      daysAgo: 5.5,
      minutes: 20,
      ending: { reconcile: 'run.stale_queued', status: 'queued' },
    },
    {
      type: 'backup_schedule.run',
      tenant: 'dev',
      by: null,
      daysAgo: 0.15,
      minutes: 12,
      total: 150,
      ending: { reconcile: 'run.heartbeat_lost', status: 'running' },
    },
  );
  return runs;
}

async function seedHistory(
  db: Kysely<Database>,
  ids: DemoIds,
  now: Date,
  say: (message: string) => void,
): Promise<number> {
  let at = now.getTime();
  const runs = new RunService({ db, clock: () => new Date(at) });
  const plan = history();
  let done = 0;
  for (const spec of plan) {
    at = now.getTime() - spec.daysAgo * 24 * 3600_000;
    const { run } = await runs.createOrReuse({
      workspaceId: ids.contoso,
      tenantId: spec.tenant ? ids[spec.tenant] : null,
      type: spec.type,
      identity: { seededAt: at },
      input: { scope: 'all' },
      initiatorUserId: spec.by ? ids[spec.by] : null,
    });
    const ending = spec.ending;
    if ('reconcile' in ending && ending.status === 'queued') {
      at += spec.minutes * 60_000;
      await runs.forceFail(run.id, {
        reasonCode: ending.reconcile,
        message: 'No worker picked it up within its lifecycle window.',
        thresholdSeconds: 600,
        evidence: { status: 'queued', jobLocked: false },
        source: 'reconciler',
      });
    } else if ('outcome' in ending && ending.outcome === 'blocked') {
      at += 1500;
      await runs.complete(run.id, { outcome: 'blocked', failures: [ending.failure] });
    } else {
      at += 1200;
      await runs.markRunning(run.id, { workerId: 'demo-worker-1' });
      const total = spec.total;
      const reached = 'reconcile' in ending ? 0.4 : 1;
      if (total) {
        at += spec.minutes * 30_000 * reached;
        await runs.reportProgress(run.id, { processed: Math.floor(total * reached), total });
      }
      if ('reconcile' in ending) {
        const lastBeat = new Date(at).toISOString();
        at += 20_000;
        await runs.forceFail(run.id, {
          reasonCode: ending.reconcile,
          message: 'The worker stopped reporting heartbeats.',
          thresholdSeconds: 15,
          evidence: {
            lastHeartbeatAt: lastBeat,
            workerId: 'demo-worker-1',
            workerLastSeenAt: lastBeat,
          },
          source: 'reconciler',
        });
      } else {
        at += spec.minutes * 30_000;
        const failed = ending.outcome === 'partially_succeeded' ? 3 : 0;
        await runs.complete(run.id, {
          outcome: ending.outcome,
          counts: total ? { processed: total - failed, ...(failed ? { failed } : {}) } : {},
          failures: ending.failure ? [ending.failure] : [],
        });
      }
    }
    done += 1;
    if (done % 25 === 0) say(`historical runs: ${done}/${plan.length}`);
  }
  say(`historical runs: ${done}/${plan.length}`);
  return done;
}

/** A few real runs for the worker, so the live surfaces have something active to show. */
async function startLive(
  deps: { db: Kysely<Database>; registry: OperationRegistry },
  ids: DemoIds,
): Promise<void> {
  const runs = new RunService({ db: deps.db });
  const start = (type: string, tenantId: string, by: string, input: Record<string, unknown>) =>
    startRun(
      { db: deps.db, runs, registry: deps.registry },
      {
        type,
        workspaceId: ids.contoso,
        tenantId,
        input,
        initiatorUserId: by,
      },
    );
  if (deps.registry.get('demo.sleep')) {
    await start('demo.sleep', ids.prod, ids.owner, { seconds: 300, total: 300, tag: 'demo live' });
  }
  if (deps.registry.get('inventory.sync')) {
    await start('inventory.sync', ids.dev, ids.operator, { scope: 'changed' });
  }
}
