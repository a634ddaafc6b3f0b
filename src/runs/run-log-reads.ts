import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { type LogLevel, levelsFrom } from '../domain/run-log-lines.js';

export interface RunLogItem {
  seq: number;
  attempt: number;
  at: Date;
  level: LogLevel;
  message: string;
  fields: Record<string, unknown> | null;
}

export interface RunLogPage {
  items: RunLogItem[];
  /** Where the next read starts: past every line this one looked at, filtered out or not. */
  nextAfter: number;
  /** The cap dropped lines of this run. */
  truncated: boolean;
}

/**
 * A run's log lines after `after` at `level` or above, in seq order (the primary key's order).
 * One statement, one snapshot: the lines and the run's last seq agree, so `nextAfter` may skip
 * the lines a level filter left out without skipping one that commits later.
 */
export async function readRunLog(
  db: Kysely<Database>,
  runId: string,
  query: { after: number; level: LogLevel; limit: number },
): Promise<RunLogPage> {
  const rows = await sql<RunLogItem & { last_seq: number | null; dropped: string | null }>`
    select l.seq, l.attempt, l.at, l.level, l.message, l.fields, h.last_seq, h.dropped::text
    from (select 1) one
    left join run_logs h on h.run_id = ${runId}
    left join lateral (
      select seq, attempt, at, level, message, fields from run_log_lines
      where run_id = ${runId} and seq > ${query.after}
        and level = any(${levelsFrom(query.level)}::text[])
      order by seq limit ${query.limit}) l on true
    order by l.seq`.execute(db);
  const head = rows.rows[0];
  const items = rows.rows
    .filter((r) => r.seq !== null)
    .map(({ seq, attempt, at, level, message, fields }) => ({
      seq,
      attempt,
      at,
      level,
      message,
      fields,
    }));
  const full = items.length === query.limit;
  const lastSeen = items.at(-1)?.seq ?? query.after;
  return {
    items,
    // A short page read everything up to the run's last seq; a full one only up to its last line.
    nextAfter: full ? lastSeen : Math.max(lastSeen, head?.last_seq ?? 0, query.after),
    truncated: Number(head?.dropped ?? 0) > 0,
  };
}
