import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.js';
import type { OperationRegistry } from '../execution/registry.js';
import { loadRunSurroundings } from '../runs/run-detail.js';
import type { RunWithInitiator } from '../runs/run-reads.js';
import { RunViewSchema, toRunView } from './run-view.js';

export const RunDetailSchema = RunViewSchema.extend({
  workspace: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  tenant: z
    .object({ id: z.string(), slug: z.string(), name: z.string(), status: z.string() })
    .nullable(),
  /** `run_events`, oldest first. */
  timeline: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      at: z.string(),
      payload: z.record(z.string(), z.unknown()),
    }),
  ),
  /** For the collapsed diagnostics: raw queue facts, never shown as headlines. */
  diagnostics: z.object({
    queueJobId: z.string().nullable(),
    workerId: z.string().nullable(),
    input: z.record(z.string(), z.unknown()),
    context: z.record(z.string(), z.unknown()),
    lateCompletions: z.array(z.record(z.string(), z.unknown())),
  }),
});

/** The canonical run detail (DESIGN §11 `GET /api/operations/:id`, and the system plane's). */
export async function toRunDetail(
  db: Kysely<Database>,
  registry: OperationRegistry,
  run: RunWithInitiator,
  now: Date,
): Promise<z.infer<typeof RunDetailSchema>> {
  const around = await loadRunSurroundings(db, run);
  return {
    ...toRunView(run, registry, now),
    workspace: around.workspace,
    tenant: around.tenant,
    timeline: around.timeline.map((e) => ({
      id: String(e.id),
      kind: e.kind,
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
