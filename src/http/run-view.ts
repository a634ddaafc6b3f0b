import { z } from 'zod';
import { DEFAULT_POLICY } from '../domain/lifecycle.js';
import { deriveTruth } from '../domain/truth.js';
import type { OperationRegistry } from '../execution/registry.js';
import type { RunWithInitiator } from '../runs/run-reads.js';

const Badge = z.object({
  label: z.string(),
  tone: z.enum(['neutral', 'info', 'success', 'warning', 'danger']),
});

export const TruthSchema = z.object({
  problemClass: z.enum(['none', 'active_stale', 'reconciled', 'terminal_follow_up']),
  bucket: z.enum([
    'active',
    'active_stale',
    'reconciled',
    'terminal_follow_up',
    'succeeded',
    'cancelled',
  ]),
  headline: z.string(),
  guidance: z.string(),
  badges: z.array(Badge),
  progress: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('none') }),
    z.object({ kind: z.literal('spinner') }),
    z.object({
      kind: z.literal('bar'),
      processed: z.number(),
      total: z.number(),
      percent: z.number(),
    }),
  ]),
  decision: z.object({ stillActive: z.string(), whatNext: z.string() }),
});

/** A run as every response carries it (DESIGN §11), with `truth` from `deriveTruth` only. */
export const RunViewSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  tenantId: z.string().nullable(),
  type: z.string(),
  typeLabel: z.string(),
  status: z.enum(['queued', 'running', 'completed']),
  outcome: z.enum([
    'pending',
    'succeeded',
    'partially_succeeded',
    'failed',
    'blocked',
    'cancelled',
  ]),
  identityHash: z.string(),
  initiator: z.object({ id: z.string(), name: z.string() }).nullable(),
  summaryCounts: z.record(z.string(), z.number()),
  progress: z.object({ processed: z.number(), total: z.number().nullable() }).nullable(),
  failures: z.array(z.object({ code: z.string(), message: z.string() })),
  reconciliation: z.record(z.string(), z.unknown()).nullable(),
  attempt: z.number(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  lastHeartbeatAt: z.string().nullable(),
  cancelRequestedAt: z.string().nullable(),
  retryOf: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  truth: TruthSchema,
  links: z.object({ view: z.string(), system: z.string() }),
});
export type RunView = z.infer<typeof RunViewSchema>;

export function toRunView(
  run: RunWithInitiator,
  registry: OperationRegistry,
  now: Date = new Date(),
): RunView {
  const operation = registry.get(run.type);
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: run.id,
    workspaceId: run.workspace_id,
    tenantId: run.tenant_id,
    type: run.type,
    typeLabel: operation?.label ?? run.type,
    status: run.status,
    outcome: run.outcome,
    identityHash: run.identity_hash,
    initiator: run.initiator_user_id
      ? { id: run.initiator_user_id, name: run.initiator_name ?? 'Unknown user' }
      : null,
    summaryCounts: run.summary_counts,
    progress:
      run.progress_processed === null
        ? null
        : { processed: run.progress_processed, total: run.progress_total },
    failures: run.failures,
    reconciliation: run.reconciliation as RunView['reconciliation'],
    attempt: run.attempt,
    createdAt: run.created_at.toISOString(),
    startedAt: iso(run.started_at),
    completedAt: iso(run.completed_at),
    lastHeartbeatAt: iso(run.last_heartbeat_at),
    cancelRequestedAt: iso(run.cancel_requested_at),
    retryOf: run.retry_of,
    reviewedAt: iso(run.reviewed_at),
    truth: deriveTruth(run, operation?.policy ?? DEFAULT_POLICY, now, {
      execution: operation?.execution,
    }),
    links: { view: `/admin/operations/${run.id}`, system: `/system/ops/runs/${run.id}` },
  };
}
