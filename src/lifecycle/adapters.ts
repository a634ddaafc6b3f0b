import type { RunRow } from '../db/schema.js';
import { REASON_COPY } from '../domain/reason-copy.js';
import { staleWindows, windowOpened } from '../domain/staleness.js';
import type { OperationDefinition } from '../execution/operation.js';
import { quietRunsQuery } from '../runs/system-reads.js';
import type { ReconcileAction, ReconcileDeps, ReconcileReport } from './reconcile-report.js';

/**
 * Asks a type's `reconcile(run)` adapter, the source of truth, about a run: "completed" ends it
 * with the source's outcome, anything else active is a heartbeat. False when the adapter had no
 * answer (or failed): the caller then judges the run by its heartbeat.
 */
export async function askAdapter(
  deps: ReconcileDeps,
  adapter: NonNullable<OperationDefinition['reconcile']>,
  run: RunRow,
  action: ReconcileAction,
): Promise<boolean> {
  let state: Awaited<ReturnType<typeof adapter>>;
  try {
    state = await adapter(run);
  } catch (error) {
    deps.logger.warn(
      { runId: run.id, err: error },
      'reconcile adapter failed; judging the run by its heartbeat',
    );
    return false;
  }
  if (!state) return false;
  if (state.status === 'completed') {
    const result = await deps.runs.complete(run.id, {
      outcome: state.outcome,
      failures:
        state.outcome === 'failed'
          ? [
              {
                code: 'adapter.source_failed',
                message: REASON_COPY['adapter.source_failed'].operator,
              },
            ]
          : [],
    });
    action.result = result.moved ? 'adapter' : 'skipped';
    action.note = `the source of truth says ${state.outcome}`;
    return true;
  }
  await deps.runs.heartbeat(run.id); // the source says it is alive
  action.result = 'skipped';
  action.note = `the source of truth says it is ${state.status}`;
  return true;
}

/**
 * `reconcile_only` runs whose worker has gone quiet (typically: the handler returned and the run
 * awaits its source of truth) are asked about once silent for a heartbeat interval, every sweep,
 * not only once stale: the adapter's "still running" is their heartbeat, so an honest wait never
 * reads as likely stale, and "finished" ends the run within a sweep.
 */
export async function askWaitingAdapters(
  deps: ReconcileDeps,
  report: ReconcileReport,
  now: Date,
): Promise<void> {
  const asked = new Set(report.actions.map((a) => a.runId));
  for (const operation of deps.registry.list()) {
    if (operation.policy.terminalTruth !== 'reconcile_only' || !operation.reconcile) continue;
    const quietSince = windowOpened(now, operation.policy.heartbeatSeconds);
    const waiting = await quietRunsQuery(deps.db, operation.type, quietSince).execute();
    for (const run of waiting) {
      if (asked.has(run.id)) continue;
      const action: ReconcileAction = {
        runId: run.id,
        type: run.type,
        status: 'running',
        reasonCode: 'run.heartbeat_lost',
        thresholdSeconds: staleWindows(operation.policy).lost,
        sinceSeconds: Math.round(
          (now.getTime() - (run.last_heartbeat_at ?? run.started_at ?? run.created_at).getTime()) /
            1000,
        ),
        result: 'skipped',
      };
      if (await askAdapter(deps, operation.reconcile, run, action)) report.actions.push(action);
    }
  }
}
