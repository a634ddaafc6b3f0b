import { type CronItem, parseCronItems, type Task } from 'graphile-worker';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { PRIORITIES, type Priority } from '../domain/flow-limits.js';
import type { RunService } from '../runs/run-service.js';
import type { OperationRegistry } from './registry.js';
import { startRun } from './start.js';

/** A cron schedule that starts system runs (initiator null) of one type (DESIGN §7.8). */
export interface ScheduleDefinition {
  /** Stable id: the queue's cron bookkeeping (no double firing across workers) is keyed by it. */
  id: string;
  type: string;
  /** Five-field cron in UTC, e.g. `0 2 * * *` for 02:00 every night. */
  cron: string;
  input: unknown;
  /** Workspace slug, or `*` for every workspace. */
  workspace: string;
  /** Tenant-scoped types: a tenant slug, or `*` for every active tenant of the workspace. */
  tenant?: string;
  /** Its runs' priority among waiting runs (DESIGN §17); default `normal`. */
  priority?: Priority;
}

export const SCHEDULE_TASK = 'runwarden:schedule';

/** Validates schedules against the registry and turns them into graphile-worker cron items. */
export function scheduleCronItems(schedules: ScheduleDefinition[], registry: OperationRegistry) {
  const ids = new Set<string>();
  for (const schedule of schedules) {
    const operation = registry.get(schedule.type);
    if (!operation)
      throw new Error(`schedule ${schedule.id}: there is no operation type "${schedule.type}"`);
    if (operation.execution !== 'queue')
      throw new Error(`schedule ${schedule.id}: ${schedule.type} is external`);
    if (operation.scope === 'tenant' && !schedule.tenant) {
      throw new Error(
        `schedule ${schedule.id}: ${schedule.type} is tenant-scoped; name a tenant slug or "*"`,
      );
    }
    if (schedule.priority !== undefined && !PRIORITIES.includes(schedule.priority))
      throw new Error(
        `schedule ${schedule.id}: priority must be ${PRIORITIES.join(', ')}, got ${String(schedule.priority)}`,
      );
    if (ids.has(schedule.id)) throw new Error(`schedule ${schedule.id} is defined twice`);
    ids.add(schedule.id);
  }
  const items: CronItem[] = schedules.map((schedule) => ({
    task: SCHEDULE_TASK,
    match: schedule.cron,
    identifier: schedule.id,
    payload: { scheduleId: schedule.id },
    // A tick missed while no worker ran is not replayed: the next one starts a fresh run.
    options: { backfillPeriod: 0 },
  }));
  return parseCronItems(items); // throws on an invalid cron pattern, naming it
}

export interface TickResult {
  started: string[];
  reused: string[];
  failed: Array<{ target: string; error: string }>;
}

/** One tick: start (or reuse) the schedule's run for every target, through the one start path. */
export async function runScheduleTick(
  deps: { db: Kysely<Database>; runs: RunService; registry: OperationRegistry; logger: Logger },
  schedule: ScheduleDefinition,
): Promise<TickResult> {
  const operation = deps.registry.get(schedule.type);
  const result: TickResult = { started: [], reused: [], failed: [] };
  let query = deps.db
    .selectFrom('workspaces')
    .leftJoin('tenants', (join) =>
      join.onRef('tenants.workspace_id', '=', 'workspaces.id').on('tenants.status', '=', 'active'),
    )
    .select([
      'workspaces.id as workspaceId',
      'workspaces.slug as workspaceSlug',
      'tenants.id as tenantId',
      'tenants.slug as tenantSlug',
    ]);
  if (schedule.workspace !== '*') query = query.where('workspaces.slug', '=', schedule.workspace);
  if (operation?.scope === 'tenant' && schedule.tenant && schedule.tenant !== '*') {
    query = query.where('tenants.slug', '=', schedule.tenant);
  }
  const rows = await query.execute();
  const targets =
    operation?.scope === 'workspace'
      ? [
          ...new Map(
            rows.map((r) => [r.workspaceId, { ...r, tenantId: null, tenantSlug: null }]),
          ).values(),
        ]
      : rows.filter((r) => r.tenantId !== null);
  for (const target of targets) {
    const label = target.tenantSlug
      ? `${target.workspaceSlug}/${target.tenantSlug}`
      : target.workspaceSlug;
    try {
      const { run, reused } = await startRun(deps, {
        type: schedule.type,
        workspaceId: target.workspaceId,
        tenantId: target.tenantId,
        input: schedule.input,
        initiatorUserId: null,
        context: { scheduleId: schedule.id },
        ...(schedule.priority ? { priority: schedule.priority } : {}),
      });
      (reused ? result.reused : result.started).push(run.id);
    } catch (error) {
      result.failed.push({
        target: label,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  deps.logger.info(
    {
      scheduleId: schedule.id,
      started: result.started.length,
      reused: result.reused.length,
      failed: result.failed,
    },
    'schedule tick',
  );
  return result;
}

export function scheduleTask(
  deps: Parameters<typeof runScheduleTick>[0],
  schedules: ScheduleDefinition[],
): Task {
  return async (payload) => {
    const scheduleId = (payload as { scheduleId?: unknown } | null)?.scheduleId;
    const schedule = schedules.find((s) => s.id === scheduleId);
    if (!schedule) {
      deps.logger.warn({ scheduleId }, 'a schedule tick names no known schedule; ignored');
      return;
    }
    await runScheduleTick(deps, schedule);
  };
}
