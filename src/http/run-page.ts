import type { OperationRegistry } from '../execution/registry.js';
import type { RunViewRow } from '../runs/run-reads.js';
import { zodWriter } from './json-serializer.js';
import { toRunView } from './run-view.js';
import { RunViewSchema } from './schemas.js';

const writeView = zodWriter(RunViewSchema);
/** Finished runs' answers kept per route (about 1 KB each); past this many it starts over. */
const KEPT = 10_000;

/**
 * A page of runs as its JSON answer `{items, nextCursor}`, written as the route's JSON Schema
 * writer writes it. A finished run's view depends on its row alone (only active runs age with
 * the clock), so each finished run's JSON is kept, keyed by its row version (`xmin`: any write to
 * the row makes a new one) and its initiator's name (a user can be renamed); active runs are
 * written afresh every time.
 */
export class RunPageWriter {
  readonly #registry: OperationRegistry;
  readonly #finished = new Map<string, string>();

  constructor(registry: OperationRegistry) {
    this.#registry = registry;
  }

  write(rows: readonly RunViewRow[], nextCursor: string | null, now: Date): string {
    let items = '';
    for (const row of rows) items += (items ? ',' : '') + this.#view(row, now);
    const cursor = nextCursor === null ? 'null' : JSON.stringify(nextCursor);
    return `{"items":[${items}],"nextCursor":${cursor}}`;
  }

  #view(row: RunViewRow, now: Date): string {
    if (row.status !== 'completed') return writeView(toRunView(row, this.#registry, now));
    const key = `${row.id} ${row.row_version} ${JSON.stringify(row.initiator_name)}`;
    let json = this.#finished.get(key);
    if (json === undefined) {
      json = writeView(toRunView(row, this.#registry, now));
      if (this.#finished.size >= KEPT) this.#finished.clear();
      this.#finished.set(key, json);
    }
    return json;
  }
}
