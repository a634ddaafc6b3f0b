import { eventCopy } from '../domain/event-copy.js';
import type { OperationRegistry } from '../execution/registry.js';
import type { RunReadModel } from '../runs/read-model.js';
import type { RunWithInitiator } from '../runs/run-reads.js';
import { toRunView } from './run-view.js';
import type { RunDetail } from './schemas.js';

/** The canonical run detail (DESIGN §11 `GET /api/operations/:id`, and the system plane's). */
export async function toRunDetail(
  reads: RunReadModel,
  registry: OperationRegistry,
  run: RunWithInitiator,
  now: Date,
): Promise<RunDetail> {
  const around = await reads.surroundings(run);
  return {
    ...toRunView(run, registry, now),
    workspace: around.workspace,
    tenant: around.tenant,
    timeline: around.timeline.map((e) => ({
      id: String(e.id),
      kind: e.kind,
      ...eventCopy(e.kind, e.payload),
      at: e.at.toISOString(),
      payload: e.payload,
    })),
    diagnostics: {
      queueJobId: run.queue_job_id,
      workerId: run.worker_id,
      input: run.input,
      context: run.context,
      lateCompletions: around.timeline
        .filter((e) => e.kind === 'late_completion')
        .map((e) => ({ at: e.at.toISOString(), ...e.payload })),
    },
  };
}
