import { createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type pg from 'pg';

// The hot path's statements (a run's transitions) are planned once per connection instead of on
// every call: a statement marked with `prepared` is sent as a named prepared statement, whose
// generic plan PostgreSQL keeps. Only marked statements: a statement whose best plan depends on
// its parameters (lists, counts over a workspace) stays unnamed and is planned each time.

const MARK = '/* runwarden:prepared */';
/** Distinct marked texts are few (one per transition shape); past this, send them unnamed. */
const MAX_NAMES = 500;
const names = new Map<string, string>();

/** Marks a whole statement to be sent as a named prepared statement (see `preparingPool`). */
export function prepared<T>(statement: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(MARK)}${statement}`;
}

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMES) {
    name = `rw_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

type Query = (...args: unknown[]) => unknown;
const PATCHED = Symbol('runwarden.prepared');

function prepareMarked(client: pg.PoolClient): pg.PoolClient {
  const patched = client as pg.PoolClient & { [PATCHED]?: true };
  if (patched[PATCHED]) return client;
  const query = client.query.bind(client) as Query;
  // Anything but a marked text (config objects, callbacks, cursors) passes through untouched.
  const named: Query = (...args) => {
    const [text, values] = args;
    if (args.length <= 2 && typeof text === 'string' && text.startsWith(MARK)) {
      const name = nameOf(text);
      if (name) return query({ name, text, values });
    }
    return query(...args);
  };
  Object.assign(patched, { query: named, [PATCHED]: true });
  return client;
}

/** The part of a pool Kysely uses, whose clients send marked statements as prepared ones. */
export function preparingPool(pool: pg.Pool): {
  connect(): Promise<pg.PoolClient>;
  end(): Promise<void>;
} {
  return {
    connect: async () => prepareMarked(await pool.connect()),
    end: () => pool.end(),
  };
}
