import type { Job } from 'graphile-worker';
import type { Logger } from 'pino';
import type { RunService } from '../runs/run-service.js';
import { isJobPayload } from './queue.js';
import { retryWhileUnavailable } from './retry-write.js';

/**
 * Failed-job bridge (DESIGN §7.3): a job the queue gave up on without the wrapper finishing. Its
 * write is retried while the database is away, like every result. Listens to graphile-worker's
 * `job:failed` event.
 */
export function failedJobBridge(runs: RunService, logger: Logger, writeWindowMs: number) {
  return ({ job, error }: { job: Job; error: unknown }) => {
    if (!isJobPayload(job.payload)) {
      // Schedule ticks and maintenance carry no run; a run task whose payload names none is a bug.
      logger.error(
        { jobId: job.id, task: job.task_identifier, err: error },
        'a queue job failed permanently',
      );
      return;
    }
    const runId = job.payload.runId;
    void retryWhileUnavailable(
      () =>
        runs.complete(runId, {
          outcome: 'failed',
          failures: [
            {
              code: 'queue.attempts_exhausted',
              message: `The queue gave up after ${job.attempts} of ${job.max_attempts} attempts.`,
            },
          ],
        }),
      {
        until: Date.now() + writeWindowMs,
        log: logger.child({ runId }),
        what: 'failed-job bridge',
      },
    )
      .then((result) => {
        if (result.moved)
          logger.warn({ runId, err: error }, 'queue gave up on the job; run marked failed');
      })
      .catch((e: unknown) =>
        logger.error({ err: e, runId }, 'failed-job bridge could not update the run'),
      );
  };
}
