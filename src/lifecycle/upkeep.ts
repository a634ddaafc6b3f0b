import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/unavailable.js';

/** Work a process repeats on a clock (folding rollups, the alerts' minute tick). */
export interface UpkeepTask {
  name: string;
  run: (logger: Logger) => Promise<unknown>;
}

/**
 * Runs each task every `everyMs`, one run at a time per task, in this process (not as a queue cron
 * job: a cron that cannot reach the database stops the queue runner that carries it). A failed run
 * is logged and the next one comes at its time; while the database is away, quietly so.
 */
export function startUpkeepLoop(
  tasks: UpkeepTask[],
  logger: Logger,
  everyMs = 60_000,
): { stop(): Promise<void> } {
  const running = new Map<string, Promise<void>>();
  const tick = () => {
    for (const task of tasks) {
      if (running.has(task.name)) continue;
      const run = task
        .run(logger)
        .then(
          () => undefined,
          (error: unknown) => {
            if (isDatabaseUnavailable(error))
              logger.debug({ err: error, task: task.name }, 'upkeep waits for the database');
            else logger.error({ err: error, task: task.name }, 'upkeep task failed');
          },
        )
        .finally(() => running.delete(task.name));
      running.set(task.name, run);
    }
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}
