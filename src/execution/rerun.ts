import type { RunRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { type StartDeps, startRun } from './start.js';

export interface RerunRequest {
  runId: string;
  /** Edited input; absent: the original's. Checked against the type's schema like any start. */
  input?: Record<string, unknown>;
  initiatorUserId: string | null;
  initiatorTokenId?: string | null;
}

/**
 * Runs a run again (DESIGN §18), perhaps with edited input: a new start of the same type and scope
 * through the one start path (input check, dedupe, flow control), linked by `rerunOf`; the
 * original is never changed. A fleet runs again as a fleet (`retryFleet`, or a new one).
 */
export async function rerunRun(
  deps: StartDeps,
  request: RerunRequest,
): Promise<{ run: RunRow; reused: boolean }> {
  const original = await deps.runs.get(request.runId);
  if (!original) throw new RunwardenError('not_found', 'No such run.');
  if (original.fleet) {
    throw new RunwardenError(
      'invalid_input',
      'A fleet runs again as a fleet: retry its tenants that did not succeed, or start a new one.',
    );
  }
  return await startRun(deps, {
    type: original.type,
    workspaceId: original.workspace_id,
    tenantId: original.tenant_id,
    input: request.input ?? original.input,
    initiatorUserId: request.initiatorUserId,
    initiatorTokenId: request.initiatorTokenId ?? null,
    tags: original.tags,
    rerunOf: original.id,
  });
}
