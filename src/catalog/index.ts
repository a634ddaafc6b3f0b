import { z } from 'zod';
import { defineOperation, type OperationDefinition } from '../execution/operation.js';
import type { ScheduleDefinition } from '../execution/schedules.js';
import { demoSleep } from './demo-sleep.js';
import { type SimulationSettings, simulationFromEnv } from './simulate.js';
import { simulatedOperation } from './simulated.js';

/**
 * The demo catalog (DESIGN §4): the operations of a tenant-management platform with simulated
 * work, plus `demo.sleep` for tests and benchmarks. Durations and failure rates come from
 * RUNWARDEN_DEMO_SPEED, RUNWARDEN_DEMO_ERROR_RATE and RUNWARDEN_DEMO_PARTIAL_RATE.
 */
export function demoCatalog(
  settings: SimulationSettings = simulationFromEnv(),
): OperationDefinition[] {
  const sim = (spec: Parameters<typeof simulatedOperation>[0]) =>
    simulatedOperation(spec, settings);
  return [
    sim({
      type: 'inventory.sync',
      label: 'Inventory sync',
      scope: 'tenant',
      items: 120,
      msPerItem: 50,
      countKey: 'items',
    }),
    sim({
      type: 'policy.sync',
      label: 'Policy sync',
      scope: 'tenant',
      items: 60,
      msPerItem: 80,
      countKey: 'policies',
    }),
    defineOperation({
      type: 'policy.sync_one',
      label: 'Sync one policy',
      scope: 'tenant',
      input: z.object({
        policyId: z
          .string()
          .min(1)
          .max(200)
          .meta({ title: 'Policy id', description: 'The id of the policy to sync.' }),
      }),
      identity: (input) => ({ policyId: input.policyId }),
      async run(ctx) {
        await ctx.progress({ processed: 1, total: 1 });
        return { outcome: 'succeeded', counts: { policies: 1 } };
      },
    }) as OperationDefinition,
    sim({
      type: 'directory_groups.sync',
      label: 'Directory groups sync',
      scope: 'tenant',
      items: 200,
      msPerItem: 20,
      countKey: 'groups',
    }),
    sim({
      type: 'baseline.capture',
      label: 'Capture baseline',
      scope: 'tenant',
      items: 80,
      msPerItem: 60,
      countKey: 'settings',
    }),
    sim({
      type: 'baseline.compare',
      label: 'Compare with baseline',
      scope: 'tenant',
      items: 80,
      msPerItem: 40,
      countKey: 'settings',
    }),
    sim({
      type: 'drift.generate',
      label: 'Generate drift report',
      scope: 'tenant',
      items: 40,
      msPerItem: 100,
      countKey: 'findings',
    }),
    sim({
      type: 'backup_set.add_policies',
      label: 'Add policies to backup set',
      scope: 'tenant',
      items: 30,
      msPerItem: 60,
      countKey: 'policies',
    }),
    sim({
      type: 'backup_schedule.run',
      label: 'Scheduled backup',
      scope: 'tenant',
      items: 150,
      msPerItem: 40,
      countKey: 'items',
      lifecycle: {
        timeoutSeconds: 1800,
        runningStaleAfterSeconds: 2400,
        queuedStaleAfterSeconds: 1800,
      },
    }),
    sim({
      type: 'mailbox_archive.export',
      label: 'Mailbox archive export',
      scope: 'tenant',
      items: 50,
      msPerItem: 200,
      countKey: 'mailboxes',
      // A long export whose worker reports every two hours: a run whose worker went quiet is
      // judged lost only after three missed reports (6 h), and a reconciler that just started
      // gives heartbeats that long to land. So the demo's quiet export stays likely stale, not
      // reconciled, for hours after `runwarden start`.
      lifecycle: {
        heartbeatSeconds: 7200,
        timeoutSeconds: 43_200,
        runningStaleAfterSeconds: 86_400,
        queuedStaleAfterSeconds: 1800,
      },
    }),
    sim({
      type: 'review_pack.generate',
      label: 'Generate review pack',
      scope: 'workspace',
      items: 25,
      msPerItem: 120,
      countKey: 'pages',
    }),
    defineOperation({
      type: 'restore.execute',
      label: 'Restore',
      scope: 'tenant',
      execution: 'external',
      input: z.object({ restoreRunId: z.string().min(1).max(200) }),
      identity: (input) => ({ restoreRunId: input.restoreRunId }),
      lifecycle: { heartbeatSeconds: 30, runningStaleAfterSeconds: 3600, timeoutSeconds: 3000 },
      // The restore service's own states, mapped onto run states (DESIGN §7.6).
      mapState(state) {
        switch (state) {
          case 'previewed':
          case 'scheduled':
            return { status: 'queued' };
          case 'executing':
            return { status: 'running' };
          case 'completed':
            return { status: 'completed', outcome: 'succeeded' };
          case 'completed_with_errors':
            return { status: 'completed', outcome: 'partially_succeeded' };
          case 'failed':
            return { status: 'completed', outcome: 'failed' };
          case 'aborted':
            return { status: 'completed', outcome: 'cancelled' };
          default:
            return undefined;
        }
      },
    }) as OperationDefinition,
    demoSleep as OperationDefinition,
  ];
}

/** The demo's schedules: a nightly backup of every active tenant (02:00 UTC). */
export const demoSchedules: ScheduleDefinition[] = [
  {
    id: 'nightly-backup',
    type: 'backup_schedule.run',
    cron: '0 2 * * *',
    input: { scope: 'all' },
    workspace: '*',
    tenant: '*',
  },
];
