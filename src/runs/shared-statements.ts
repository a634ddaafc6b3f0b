/** More would make one statement's locks and WAL record long; a worker rarely gets near it. */
const MAX_SHARED = 64;

interface Waiting<E, R> {
  entry: E;
  resolve(row: R | undefined): void;
  reject(error: unknown): void;
}

interface Lane<E, R> {
  busy: boolean;
  waiting: Array<Waiting<E, R>>;
}

/**
 * Writes of one kind share statements: while one statement is on its way, the writes that arrive
 * wait and go together in the next one. No timer: a write that finds its lane idle goes at once,
 * so sharing grows only with load. `many` is one statement for a batch (each run its own
 * compare-and-set) and returns the rows it moved. When a shared statement fails, each of its
 * writes is tried again alone, so one run's bad value (a counts limit) never fails the others.
 */
export class SharedStatements<E extends { id: string }, R extends { id: string }> {
  readonly #many: (key: unknown, batch: E[]) => Promise<R[]>;
  /** One lane per key: writes share a statement only when their key is the same object. */
  readonly #lanes = new Map<unknown, Lane<E, R>>();

  constructor(many: (key: unknown, batch: E[]) => Promise<R[]>) {
    this.#many = many;
  }

  /** The row `entry` moved, or undefined when it did not move. */
  write(key: unknown, entry: E): Promise<R | undefined> {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { busy: false, waiting: [] };
      this.#lanes.set(key, lane);
    }
    const written = new Promise<R | undefined>((resolve, reject) =>
      lane.waiting.push({ entry, resolve, reject }),
    );
    if (!lane.busy) void this.#drain(key, lane);
    return written;
  }

  async #drain(key: unknown, lane: Lane<E, R>) {
    lane.busy = true;
    try {
      while (lane.waiting.length > 0) {
        const batch = takeBatch(lane);
        try {
          await this.#settle(key, batch);
        } catch (error) {
          if (batch.length === 1) batch[0]?.reject(error);
          else await Promise.all(batch.map((one) => this.#settle(key, [one]).catch(one.reject)));
        }
      }
    } finally {
      lane.busy = false;
    }
  }

  async #settle(key: unknown, batch: Array<Waiting<E, R>>) {
    const moved = await this.#many(
      key,
      batch.map((w) => w.entry),
    );
    const byId = new Map(moved.map((row) => [row.id, row]));
    for (const waiting of batch) waiting.resolve(byId.get(waiting.entry.id));
  }
}

/**
 * The next statement's writes. A run named twice waits for the statement after: within one
 * statement it would match once and both callers would think they moved it.
 */
function takeBatch<E extends { id: string }, R>(lane: Lane<E, R>): Array<Waiting<E, R>> {
  const batch: Array<Waiting<E, R>> = [];
  const ids = new Set<string>();
  const rest: Array<Waiting<E, R>> = [];
  for (const waiting of lane.waiting) {
    if (batch.length < MAX_SHARED && !ids.has(waiting.entry.id)) {
      ids.add(waiting.entry.id);
      batch.push(waiting);
    } else rest.push(waiting);
  }
  lane.waiting = rest;
  return batch;
}
