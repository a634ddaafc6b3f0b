import type { Kysely, RawBuilder } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { terminalNotice } from '../domain/notice.js';
import type { Clock } from '../domain/run.js';
import type { Shareable } from './call-options.js';
import { withCountsCheck } from './run-checks.js';
import { SharedStatements } from './shared-statements.js';
import {
  completeManyRuns,
  markManyRunning,
  type SharedCompletion,
  type SharedProgress,
  type SharedStart,
  writeManyProgress,
} from './shared-transitions.js';

/**
 * RunService's worker starts, progress reports and completions that share statements under load:
 * a start shares with the starts of the same gate (`onlyIf`), a completion with those of the same
 * `sameCommit`, a progress report with any other.
 * Each resolves to the row it moved, or undefined (RunService re-reads the run to say why).
 */
export class SharedWrites {
  readonly #starts: SharedStatements<RawBuilder<boolean> | undefined, SharedStart, RunRow>;
  readonly #completions: SharedStatements<
    RawBuilder<unknown> | undefined,
    SharedCompletion,
    RunRow
  >;
  readonly #progress: SharedStatements<undefined, SharedProgress, RunRow>;

  constructor(db: Kysely<Database>, clock: Clock) {
    this.#starts = new SharedStatements((onlyIf, batch) =>
      markManyRunning(db, batch, clock(), onlyIf),
    );
    this.#completions = new SharedStatements((sameCommit, batch) =>
      withCountsCheck(() => completeManyRuns(db, batch, clock(), sameCommit)),
    );
    this.#progress = new SharedStatements((_, batch) => writeManyProgress(db, batch, clock()));
  }

  progress(report: SharedProgress): Promise<RunRow | undefined> {
    return this.#progress.write(undefined, report);
  }

  start(start: SharedStart, onlyIf?: RawBuilder<boolean>): Promise<RunRow | undefined> {
    return this.#starts.write(onlyIf, start);
  }

  complete(
    completion: Omit<SharedCompletion, 'notice'>,
    sameCommit?: RawBuilder<unknown>,
  ): Promise<RunRow | undefined> {
    return this.#completions.write(sameCommit, {
      ...completion,
      notice: terminalNotice(completion),
    });
  }
}

/** Whether a write may share its statement (`Shareable`). */
export function sharing(options: Shareable): boolean {
  return options.shared === true && options.changes !== undefined && !options.trx;
}

/**
 * Whether `run` is already running as this very job of this worker: our own start, whose commit
 * landed but whose answer was lost (the retry after a dropped connection finds it done).
 */
export function startedBy(run: RunRow | undefined, start: SharedStart): run is RunRow {
  return (
    run !== undefined &&
    start.queueJobId !== null &&
    run.status === 'running' &&
    run.worker_id === start.workerId &&
    run.queue_job_id === start.queueJobId
  );
}
