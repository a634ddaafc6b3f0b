import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ReasonCode } from '../../domain/reason-codes.js';
import type { TerminalOutcome } from '../../domain/run.js';
import { RunService } from '../../runs/run-service.js';
import type { DemoIds } from './people.js';

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

/** Writes the history through RunService on a clock set to each run's historical time. */
export async function seedHistory(
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
