import { type Compilable, type Kysely, type RawBuilder, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import { type Database, RUN_COLUMNS, type RunRow } from '../db/schema.js';
import type { RunEventKind } from '../domain/run.js';

// A transition and its `run_events` row are one statement (a data-modifying CTE): atomic
// without a transaction of its own, and one round trip on the hot path.

/**
 * A `where` condition that is always true and, for the rest of the statement's own transaction,
 * tells the run-change trigger not to NOTIFY (migration 0011): the caller announces the change
 * through a RunChangePublisher once it committed. Only for a statement that is its own
 * transaction: inside a longer one it would silence the statements after it too.
 */
export const deferNotify = sql<boolean>`set_config('runwarden.notify', 'deferred', true) = 'deferred'`;

/** A JSON value as a jsonb parameter. */
export const jsonb = (value: unknown) => sql<never>`${JSON.stringify(value)}::jsonb`;

export interface EventSpec {
  kind: RunEventKind;
  /** A JSON value, or SQL over the moved row's columns (e.g. `jsonb_build_object('attempt', attempt)`). */
  payload?: Record<string, unknown> | RawBuilder<unknown>;
}

/**
 * A notification for the run's initiator, written with the transition that made the run terminal;
 * none for a fleet's child (its parent's notice speaks for the fleet, DESIGN §19).
 */
export interface NoticeSpec {
  /** The title is `<run type>: <label>`. SQL: over the moved row (several runs, several notices). */
  label: string | RawBuilder<string>;
  body: string | RawBuilder<string>;
}

/** What a transition appends to the row it moved, all stamped `at`. */
export interface Appended {
  at: Date;
  events: EventSpec[];
  /** Only with a terminal transition: the initiator's notification (none for system runs). */
  notice?: NoticeSpec;
  /**
   * A data-modifying statement that belongs to the same commit, run only when the run moved (it
   * may refer to the moved row as `moved`): e.g. the queue's job completion.
   */
  sameCommit?: RawBuilder<unknown>;
}

/** Runs `mutation` (returning the run row) and appends `events` (and `notice`) for the row it returns. */
export async function withEvents(
  db: Kysely<Database>,
  mutation: Compilable<unknown> | RawBuilder<unknown>,
  appended: Appended,
): Promise<RunRow | undefined> {
  return (await withEventsEach(db, mutation, appended))[0];
}

/** `withEvents` for a mutation that may move several runs: each gets its events; all returned. */
export async function withEventsEach(
  db: Kysely<Database>,
  mutation: Compilable<unknown> | RawBuilder<unknown>,
  { at, events, notice, sameCommit }: Appended,
): Promise<RunRow[]> {
  const payloadOf = (e: EventSpec) =>
    e.payload === undefined ? sql`'{}'::jsonb` : isRaw(e.payload) ? e.payload : jsonb(e.payload);
  const rows = sql.join(
    events.map(
      (e) =>
        sql`select moved.id, ${sql.lit(e.kind)}::text, ${at.toISOString()}::timestamptz, ${payloadOf(e)} from moved`,
    ),
    sql` union all `,
  );
  const result = await prepared(sql<RunRow>`
    with moved as (${mutation}),
    event as (insert into run_events (run_id, kind, at, payload) ${rows})${
      notice
        ? sql`,
    notice as (
      insert into notifications (id, user_id, run_id, title, body, link, created_at)
      select gen_random_uuid(), moved.initiator_user_id, moved.id, moved.type || ': ' || ${notice.label}::text, ${notice.body}::text,
             '/admin/operations/' || moved.id, ${at.toISOString()}::timestamptz
      from moved where moved.initiator_user_id is not null and moved.parent_id is null)`
        : sql``
    }${
      sameCommit
        ? sql`,
    same_commit as (${sameCommit})`
        : sql``
    }
    select ${RETURNED} from moved`).execute(db);
  return result.rows;
}

const RETURNED = sql.raw(RUN_COLUMNS.map((c) => `"${c}"`).join(', '));

function isRaw(value: unknown): value is RawBuilder<unknown> {
  return typeof value === 'object' && value !== null && 'toOperationNode' in value;
}
