import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import type { RunService, Transition } from '../runs/run-service.js';
import type { OperationRegistry } from './registry.js';

/** The worker id recorded for runs executed by an outside system. */
export const EXTERNAL_WORKER = 'external';

export interface ExternalReport {
  /** The source system's own state name, mapped by the type's `mapState` (e.g. restore `previewed`). */
  state: string;
  progress?: { processed: number; total?: number | null };
  counts?: Record<string, number>;
  failures?: Array<{ code: string; message: string }>;
}

/**
 * External runs (DESIGN §7.6): work executed elsewhere reports its state, and the run follows.
 * Any report is a heartbeat; `queued`/`running` states keep or start the run, a terminal state
 * completes it. A report that would move a run backwards, or touch a terminal one, is a conflict.
 */
export async function reportExternal(
  deps: { db: Kysely<Database>; runs: RunService; registry: OperationRegistry },
  runId: string,
  report: ExternalReport,
): Promise<Transition> {
  // One transaction: a report that fails validation half-way (progress past total, bad counts)
  // leaves the run exactly as it was.
  return await deps.db.transaction().execute((trx) => applyReport(deps, trx, runId, report));
}

async function applyReport(
  deps: { runs: RunService; registry: OperationRegistry },
  trx: Transaction<Database>,
  runId: string,
  report: ExternalReport,
): Promise<Transition> {
  const o = { trx };
  const run = await deps.runs.get(runId, o);
  if (!run) throw new RunwardenError('not_found', 'no such run');
  const operation = deps.registry.get(run.type);
  if (operation?.execution !== 'external') {
    throw new RunwardenError(
      'conflict',
      `${run.type} runs are executed by Runwarden workers, not reported`,
    );
  }
  // Run words (queued, running, succeeded, …) always work; mapState adds the source's own words.
  const mapped = operation.mapState?.(report.state) ?? defaultState(report.state);
  if (!mapped)
    throw new RunwardenError('invalid_input', `"${report.state}" is not a state ${run.type} knows`);
  if (run.status === 'completed') {
    throw new RunwardenError('conflict', 'the run is already terminal', {
      details: { outcome: run.outcome },
    });
  }

  let transition: Transition;
  if (mapped.status === 'completed') {
    if (report.progress) await deps.runs.reportProgress(runId, report.progress, o);
    transition = await deps.runs.complete(
      runId,
      { outcome: mapped.outcome, counts: report.counts, failures: report.failures },
      o,
    );
  } else if (mapped.status === 'running' && run.status === 'queued') {
    transition = await deps.runs.markRunning(runId, { workerId: EXTERNAL_WORKER }, o);
  } else if (mapped.status === 'queued' && run.status === 'running') {
    throw new RunwardenError(
      'conflict',
      `the run is already running; "${report.state}" would move it back`,
    );
  } else {
    transition = await deps.runs.heartbeat(runId, o);
  }
  if (mapped.status !== 'completed' && transition.moved) {
    if (report.progress) transition = await deps.runs.reportProgress(runId, report.progress, o);
    if (report.counts) transition = await deps.runs.addCounts(runId, report.counts, o);
  }
  if (!transition.moved) {
    throw new RunwardenError(
      'conflict',
      `the run changed meanwhile (${transition.reason}); report again`,
    );
  }
  return transition;
}

/** Without a `mapState`, a type reports run words directly. */
function defaultState(state: string) {
  if (state === 'queued' || state === 'running') return { status: state } as const;
  const outcomes = ['succeeded', 'partially_succeeded', 'failed', 'blocked', 'cancelled'] as const;
  const outcome = outcomes.find((o) => o === state);
  return outcome ? ({ status: 'completed', outcome } as const) : undefined;
}
