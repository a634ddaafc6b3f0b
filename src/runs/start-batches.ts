import type { Kysely, RawBuilder } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import type { Clock } from '../domain/run.js';
import { markManyRunning } from './run-transitions.js';

/** More would make one statement's locks and WAL record long; a worker rarely gets near it. */
const MAX_BATCH = 64;

interface Waiting {
  id: string;
  queueJobId: string | null;
  resolve(run: RunRow | undefined): void;
  reject(error: unknown): void;
}

interface Lane {
  busy: boolean;
  waiting: Waiting[];
}

/**
 * The next statement's starts. A run named twice waits for the statement after: within one
 * statement it would match once and both callers would think they moved it.
 */
function takeBatch(lane: Lane): Waiting[] {
  const batch: Waiting[] = [];
  const ids = new Set<string>();
  const rest: Waiting[] = [];
  for (const start of lane.waiting) {
    if (batch.length < MAX_BATCH && !ids.has(start.id)) {
      ids.add(start.id);
      batch.push(start);
    } else rest.push(start);
  }
  lane.waiting = rest;
  return batch;
}

/**
 * A worker's starts (queued → running) share statements: while one start statement is on its way,
 * the starts that arrive wait and go together in the next one. No timer: a start that finds the
 * lane idle goes at once, so batching grows only with load. Each run keeps its own
 * compare-and-set; a shared statement is one commit, so either all of its starts happened or none.
 */
export class StartBatches {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  /** One lane per worker and gate condition (a statement's text and parameters are shared). */
  readonly #lanes = new Map<string, Map<RawBuilder<boolean> | undefined, Lane>>();

  constructor(db: Kysely<Database>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Starts `id` for `workerId`: the moved row, or undefined when it did not move. */
  start(
    id: string,
    worker: { workerId: string; queueJobId?: string | null },
    onlyIf?: RawBuilder<boolean>,
  ): Promise<RunRow | undefined> {
    const lane = this.#lane(worker.workerId, onlyIf);
    const started = new Promise<RunRow | undefined>((resolve, reject) =>
      lane.waiting.push({ id, queueJobId: worker.queueJobId ?? null, resolve, reject }),
    );
    if (!lane.busy) void this.#drain(lane, worker.workerId, onlyIf);
    return started;
  }

  #lane(workerId: string, onlyIf: RawBuilder<boolean> | undefined): Lane {
    let byGate = this.#lanes.get(workerId);
    if (!byGate) {
      byGate = new Map();
      this.#lanes.set(workerId, byGate);
    }
    let lane = byGate.get(onlyIf);
    if (!lane) {
      lane = { busy: false, waiting: [] };
      byGate.set(onlyIf, lane);
    }
    return lane;
  }

  async #drain(lane: Lane, workerId: string, onlyIf: RawBuilder<boolean> | undefined) {
    lane.busy = true;
    try {
      while (lane.waiting.length > 0) {
        const batch = takeBatch(lane);
        try {
          const moved = await markManyRunning(this.#db, batch, workerId, this.#clock(), onlyIf);
          const byId = new Map(moved.map((run) => [run.id, run]));
          for (const start of batch) start.resolve(byId.get(start.id));
        } catch (error) {
          for (const start of batch) start.reject(error);
        }
      }
    } finally {
      lane.busy = false;
    }
  }
}
