import { isDatabaseUnavailable } from '../db/unavailable.js';

/** More would make one statement's locks and WAL record long; a worker rarely gets near it. */
export const MAX_SHARED = 64;
/**
 * A statement still on its way after this long (a lock wait, a connection gone quiet) no longer
 * holds the writes behind it: the next statement leaves without waiting for it.
 */
export const STALL_MS = 2_000;
/**
 * Statements of one lane left stalled at once, at most: each holds a connection until the query
 * timeout ends it (a connection gone silent), so a silent network must not make the lane open a
 * new one every STALL_MS and drain the pool. Beyond it the lane waits for one of them to settle.
 */
export const MAX_STALLED = 2;

interface Waiting<E, R> {
  entry: E;
  resolve(row: R | undefined): void;
  reject(error: unknown): void;
}

interface Lane<E, R> {
  busy: boolean;
  waiting: Array<Waiting<E, R>>;
  /** Its statements that stalled and have not settled yet (at most MAX_STALLED). */
  stalled: Set<Promise<void>>;
}

/**
 * Writes of one kind share statements: while one statement is on its way, the writes that arrive
 * wait and go together in the next one. No timer: a write that finds its lane idle goes at once,
 * so sharing grows only with load. `many` is one statement for a batch (each run its own
 * compare-and-set) and returns the rows it moved. When a shared statement fails, each of its
 * writes is tried again alone, so one run's bad value (a counts limit) never fails the others;
 * while the database is unreachable they all fail at once, and their callers retry.
 */
export class SharedStatements<K, E extends { id: string }, R extends { id: string }> {
  readonly #many: (key: K, batch: E[]) => Promise<R[]>;
  /** One lane per key: writes share a statement only when their key is the same value. */
  readonly #lanes = new Map<K, Lane<E, R>>();

  constructor(many: (key: K, batch: E[]) => Promise<R[]>) {
    this.#many = many;
  }

  /** The row `entry` moved, or undefined when it did not move. */
  write(key: K, entry: E): Promise<R | undefined> {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { busy: false, waiting: [], stalled: new Set() };
      this.#lanes.set(key, lane);
    }
    const written = new Promise<R | undefined>((resolve, reject) =>
      lane.waiting.push({ entry, resolve, reject }),
    );
    if (!lane.busy) void this.#drain(key, lane);
    return written;
  }

  async #drain(key: K, lane: Lane<E, R>) {
    lane.busy = true;
    const { stalled } = lane;
    try {
      while (lane.waiting.length > 0) {
        if (stalled.size >= MAX_STALLED) await Promise.race(stalled);
        const batch = takeBatch(lane);
        let stall: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          stall = setTimeout(() => resolve('late'), STALL_MS);
        });
        const written = this.#write(key, batch);
        if ((await Promise.race([written, late])) === 'late') {
          const settled: Promise<void> = written.then(() => {
            stalled.delete(settled);
            this.#forget(key, lane);
          });
          stalled.add(settled);
        }
        clearTimeout(stall);
      }
    } finally {
      lane.busy = false;
      this.#forget(key, lane);
    }
  }

  /** Drops an idle lane with nothing stalled (a new write makes a new one). */
  #forget(key: K, lane: Lane<E, R>) {
    const idle = !lane.busy && lane.waiting.length === 0 && lane.stalled.size === 0;
    if (idle && this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }

  /** Settles every write of `batch`; never rejects. */
  async #write(key: K, batch: Array<Waiting<E, R>>): Promise<void> {
    try {
      await this.#settle(key, batch);
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error))
        for (const one of batch) one.reject(error);
      else await Promise.all(batch.map((one) => this.#settle(key, [one]).catch(one.reject)));
    }
  }

  async #settle(key: K, batch: Array<Waiting<E, R>>) {
    const moved = await this.#many(
      key,
      batch.map((w) => w.entry),
    );
    const byId = new Map(moved.map((row) => [row.id.toLowerCase(), row]));
    for (const waiting of batch) waiting.resolve(byId.get(waiting.entry.id.toLowerCase()));
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
    const id = waiting.entry.id.toLowerCase();
    if (batch.length < MAX_SHARED && !ids.has(id)) {
      ids.add(id);
      batch.push(waiting);
    } else rest.push(waiting);
  }
  lane.waiting = rest;
  return batch;
}
