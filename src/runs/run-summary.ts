import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { activeSql, judgesStaleness, type SqlJudge, sqlJudge } from '../domain/run-classes.js';
import { type Visibility, visibleSql } from '../domain/visibility.js';
import { SUMMARY_TILES, type SummaryKey, WINDOW_COLUMN, windowStart } from '../domain/windows.js';
import { judgeAt } from './judge.js';
import { inBucket, type ReadDeps } from './run-reads.js';

/** Dashboard counts (DESIGN §11 summary): one number per tile of `SUMMARY_TILES`. */
export type Summary = Record<SummaryKey, number>;

const KEYS = Object.keys(SUMMARY_TILES) as SummaryKey[];
/** Tiles judged at this instant (the active pair): always counted fresh. */
const LIVE = KEYS.filter((key) => judgesStaleness(SUMMARY_TILES[key].bucket));
/** Terminal tiles: their counts may be reused for a few seconds (see TerminalCountsCache). */
const SETTLED = KEYS.filter((key) => !LIVE.includes(key));

/**
 * Each tile counts exactly the rows of the list it opens: its bucket's predicate over its range
 * of the one window column, under the caller's visibility (so a tile never says 3 while its list
 * shows 2). `test/http/dashboard-agreement.test.ts` checks it tile by tile.
 */
export async function summarize(
  deps: ReadDeps & { terminalCache?: TerminalCountsCache; activeTypes?: ActiveTypes },
  visibility: Visibility,
  now: Date = new Date(),
): Promise<Summary> {
  /** The tiles' counts under `judge`, and how many of their rows are of a type it has no policy for. */
  const count = async (keys: SummaryKey[], judge: SqlJudge) => {
    const filters = keys.map((key) => tileSql(key, visibility, judge));
    const earliest = Math.min(
      ...keys.map((key) => windowStart(SUMMARY_TILES[key].range, now).getTime()),
    );
    const judged = judge.policies.map(([type]) => type);
    const row = await deps.db
      .selectFrom('operation_runs')
      .select(
        keys.map((key, i) =>
          sql<string>`count(*) filter (where ${filters[i] as RawBuilder<SqlBool>})`.as(key),
        ),
      )
      .select(
        (judged.length
          ? sql<string>`count(*) filter (where ${sql.ref('operation_runs.type')} not in (${sql.join(judged)}))`
          : sql<string>`0`
        ).as('unjudged'),
      )
      // The rows every tile shares first, so the list index serves the widest window.
      .where(visibleSql(visibility))
      .where(sql.ref(`operation_runs.${WINDOW_COLUMN}`), '>=', new Date(earliest))
      // Rows no tile counts are left out; for the active pair, by what both imply (active: the
      // active index's own predicate) rather than by repeating their staleness tests here.
      .where(keys === LIVE ? activeSql(judge) : sql<SqlBool>`(${sql.join(filters, sql` or `)})`)
      .executeTakeFirstOrThrow();
    const counts = Object.fromEntries(keys.map((key) => [key, Number(row[key] ?? 0)]));
    return { counts, unjudged: Number(row.unjudged) };
  };
  const fresh = async (keys: SummaryKey[]) => {
    const judge = await judgeAt(deps.db, deps.policyOf, now, keys === LIVE);
    if (keys === LIVE) deps.activeTypes?.learn(judge.policies.map(([type]) => type));
    return (await count(keys, judge)).counts;
  };
  // The active tiles need the policy of each type they count. Judged first with the types seen
  // active before (no statement to read them): exact when every row counted is of one of them
  // (each row is then judged by its own type's policy, as a fresh judge would); else judged again.
  const live = async () => {
    const known = deps.activeTypes?.types() ?? [];
    if (known.length) {
      const guess = await count(
        LIVE,
        sqlJudge(
          now,
          known.map((t) => [t, deps.policyOf(t)]),
        ),
      );
      if (guess.unjudged === 0) return guess.counts;
    }
    return await fresh(LIVE);
  };
  const cacheKey = JSON.stringify(visibility);
  const [liveCounts, settled] = await Promise.all([
    live(),
    deps.terminalCache
      ? deps.terminalCache.get(cacheKey, now, () => fresh(SETTLED))
      : fresh(SETTLED),
  ]);
  return { ...liveCounts, ...settled } as Summary;
}

/**
 * The types a read model has seen with active runs (from its judges): what the active tiles are
 * judged with first. It only grows (a type no longer active costs one more CASE branch), up to a
 * bound past which it starts over.
 */
export class ActiveTypes {
  readonly #types = new Set<string>();

  types(): string[] {
    return [...this.#types];
  }

  learn(types: readonly string[]): void {
    if (this.#types.size + types.length > 1_000) this.#types.clear();
    for (const type of types) this.#types.add(type);
  }
}

/** The rows a tile counts: its list, from its range's start. */
function tileSql(key: SummaryKey, visibility: Visibility, judge: SqlJudge) {
  const tile = SUMMARY_TILES[key];
  return inBucket({ visibility, from: windowStart(tile.range, judge.now) }, tile.bucket, judge);
}

/**
 * The terminal tiles (24 h / 7 day windows) count a week of runs: on a busy workspace that is
 * ~100k index entries per request. Dashboards may show those counts up to `ttlMs` old, so one
 * count per visibility serves everyone meanwhile; active counts are always read fresh.
 */
export class TerminalCountsCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get<T>(key: string, now: Date, load: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit && now.getTime() - hit.at < this.#ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.#entries.set(key, { at: now.getTime(), value });
    value.catch(() => this.#entries.delete(key));
    if (this.#entries.size > 10_000) this.#entries.clear();
    return value;
  }
}
