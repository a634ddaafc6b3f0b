import { priorityOf } from '../domain/flow-limits.js';
import { deriveTruth } from '../domain/truth.js';
import { waitingReason } from '../domain/waiting.js';
import type { OperationRegistry } from '../execution/registry.js';
import { RunReadModel } from '../runs/read-model.js';
import type { RunViewFacts } from '../runs/run-reads.js';
import type { ApiContext } from './context.js';
import type { RunView } from './schemas.js';

/** The run read model for a route plugin (policies from the registry, the shared summary cache). */
export function readModelOf(
  ctx: Pick<ApiContext, 'db' | 'registry'> & Partial<Pick<ApiContext, 'terminalCache'>>,
): RunReadModel {
  return new RunReadModel({
    db: ctx.db,
    policyOf: ctx.registry.policyOf,
    terminalCache: ctx.terminalCache,
  });
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRunView(
  run: RunViewFacts,
  registry: OperationRegistry,
  now: Date = new Date(),
): RunView {
  const operation = registry.get(run.type);
  return {
    id: run.id,
    workspaceId: run.workspace_id,
    tenantId: run.tenant_id,
    type: run.type,
    typeLabel: operation?.label ?? run.type,
    status: run.status,
    outcome: run.outcome,
    identityHash: run.identity_hash,
    initiator: initiatorOf(run),
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
    rerunOf: run.rerun_of,
    tags: run.tags,
    reviewedAt: iso(run.reviewed_at),
    priority: priorityOf(run.priority),
    runAt: iso(run.run_at),
    expiresAt: iso(run.expires_at),
    parentId: run.parent_id,
    fleet: run.fleet
      ? {
          total: run.progress_total ?? 0,
          finished: run.progress_processed ?? 0,
          byOutcome: run.summary_counts,
        }
      : null,
    truth: deriveTruth(run, registry.policyOf(run.type), now, {
      execution: operation?.execution,
      label: operation?.label,
      waiting: run.waiting ? waitingReason(run.waiting, now) : undefined,
    }),
    links: { view: `/admin/operations/${run.id}`, system: `/system/ops/runs/${run.id}` },
  };
}

/** The 202 answer to a start (or a retry): the run as every response shows it, and `reused`. */
export async function startAnswer(
  reads: RunReadModel,
  registry: OperationRegistry,
  started: { run: { id: string }; reused: boolean },
  now: Date,
): Promise<{ run: RunView; reused: boolean }> {
  const run = await reads.find(started.run.id, now);
  if (!run) throw new Error(`run ${started.run.id} vanished after its start`);
  return { run: toRunView(run, registry, now), reused: started.reused };
}

/** A person, or a service token acting for the workspace (DESIGN §10); null: the system. */
function initiatorOf(run: RunViewFacts): RunView['initiator'] {
  if (run.initiator_user_id)
    return {
      id: run.initiator_user_id,
      name: run.initiator_name ?? 'Unknown user',
      kind: 'person',
    };
  if (run.initiator_token_id)
    return { id: run.initiator_token_id, name: run.initiator_name ?? 'A service', kind: 'service' };
  return null;
}
