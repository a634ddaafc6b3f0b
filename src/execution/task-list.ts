import { type ParsedCronItem, parseCronItems, type TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { OperationRegistry } from './registry.js';
import {
  SCHEDULE_TASK,
  type ScheduleDefinition,
  scheduleCronItems,
  scheduleTask,
} from './schedules.js';
import { type WrapperDeps, wrapOperation } from './wrapper.js';

/**
 * Periodic upkeep the process that composes a worker hands it (retention pruning, for one): the
 * queue runs it on a cron like any other job, without knowing what it does.
 */
export interface MaintenanceTask {
  /**
   * A short lowercase name, e.g. `prune`: its jobs run as task `runwarden:<identifier>` under the
   * cron item `runwarden-<identifier>` (whose last firing graphile-worker remembers).
   */
  identifier: string;
  /** Five-field cron in UTC, e.g. `15 3 * * *` for 03:15 every day. */
  match: string;
  /** The work, given the worker's logger. A throw fails the job like any other. */
  task: (context: { logger: Logger }) => Promise<void>;
}

const MAINTENANCE_IDENTIFIER = /^[a-z][a-z0-9_-]*$/;
const JOB_IDENTIFIER = /^[a-z][a-z0-9_.-]*$/;

/**
 * A job the process that composes a worker hands it, run when something adds it to the queue
 * (`runwarden:<identifier>`), e.g. an alert's delivery. A throw fails the job like any other.
 */
export interface ProcessJob {
  identifier: string;
  task: (payload: unknown, context: { logger: Logger }) => Promise<void>;
}

/** Everything a worker's queue runs: one task per queue operation, schedule ticks, maintenance. */
export interface WorkerTasks {
  taskList: TaskList;
  /** Schedule ticks and maintenance; only one runner of the process fires them. */
  cronItems: ParsedCronItem[];
}

/**
 * Builds the task list and cron items of a worker. Throws on an invalid schedule or maintenance
 * task (unknown type, bad cron pattern, a name used twice), before anything is started.
 */
export function workerTasks(
  deps: WrapperDeps & { registry: OperationRegistry },
  schedules: ScheduleDefinition[],
  maintenance: MaintenanceTask[],
  jobs: ProcessJob[] = [],
): WorkerTasks {
  const { registry, logger } = deps;
  const taskList: TaskList = {};
  for (const operation of registry.queueOperations()) {
    taskList[operation.taskIdentifier] = wrapOperation(operation, deps);
  }

  const cronItems = scheduleCronItems(schedules, registry);
  taskList[SCHEDULE_TASK] = scheduleTask(
    { db: deps.db, runs: deps.runs, registry, logger },
    schedules,
  );

  for (const item of maintenance) {
    const task = `runwarden:${item.identifier}`;
    if (!MAINTENANCE_IDENTIFIER.test(item.identifier))
      throw new Error(`maintenance task "${item.identifier}": use a short lowercase name`);
    if (taskList[task])
      throw new Error(
        `maintenance task "${item.identifier}" is defined twice (or names a built-in task)`,
      );
    cronItems.push(
      ...parseCronItems([{ task, match: item.match, identifier: `runwarden-${item.identifier}` }]),
    );
    taskList[task] = () => item.task({ logger });
  }
  for (const job of jobs) {
    const task = `runwarden:${job.identifier}`;
    if (!JOB_IDENTIFIER.test(job.identifier) || taskList[task])
      throw new Error(`job "${job.identifier}": a short lowercase name, used once`);
    taskList[task] = (payload) => job.task(payload, { logger });
  }
  return { taskList, cronItems };
}
