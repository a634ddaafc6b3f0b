import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { droppedLine, type LogLine, type RunLogCaps } from '../domain/run-log-lines.js';

/** Where each batch of log lines is announced: `{id, workspaceId, tenantId, seq}` (the last seq). */
export const RUN_LOG_CHANNEL = 'runwarden_run_logs';

export interface AppendResult {
  /** Lines of this batch stored. */
  kept: number;
  /** Lines the cap has dropped from this run so far (this batch's and `alsoDropped` included). */
  dropped: number;
  /** The run's highest seq now. */
  lastSeq: number;
}

interface Head {
  last_seq: number;
  lines: number;
  bytes: number;
  dropped: string;
  dropped_seq: number | null;
}

/**
 * Appends a batch of a run's log lines (DESIGN §18): the only writer of `run_log_lines`. The
 * run's `run_logs` row is locked for the batch, so seqs are handed out in commit order (a reader
 * paging with `after` never skips a line that commits later). Lines past the cap are counted,
 * not stored: once the cap is reached every later line is dropped, and the one "N lines dropped"
 * line moves to the end with the current count, so a reader following with `after` sees it.
 * `alsoDropped`: lines the caller already dropped before they reached here (its buffer was full).
 * Logs are diagnostics, not run state: the batch commits asynchronously (a later synchronous
 * commit, such as the run's completion, makes it durable), and announces itself in the same commit.
 */
export async function appendRunLog(
  db: Kysely<Database>,
  run: { id: string; attempt: number },
  lines: LogLine[],
  options: { caps: RunLogCaps; alsoDropped?: number; now?: Date },
): Promise<AppendResult> {
  return await db.transaction().execute(async (trx) => {
    const head = (
      await sql<Head>`
        with async_commit as (select set_config('synchronous_commit', 'off', true))
        insert into run_logs as h (run_id) select ${run.id}::uuid from async_commit
        on conflict (run_id) do update set run_id = h.run_id
        returning h.last_seq, h.lines, h.bytes, h.dropped::text as dropped, h.dropped_seq`.execute(
        trx,
      )
    ).rows[0]!;
    let { last_seq: seq, lines: count, bytes } = head;
    let dropped = Number(head.dropped);
    const rows: Array<Omit<LogLine, 'bytes'> & { seq: number }> = [];
    for (const line of lines) {
      const fits =
        count + 1 <= options.caps.maxLines && bytes + line.bytes <= options.caps.maxBytes;
      if (dropped === 0 && fits) {
        count++;
        bytes += line.bytes;
        rows.push({ ...line, seq: ++seq });
      } else dropped++;
    }
    dropped += options.alsoDropped ?? 0;
    const kept = rows.length;
    const dropping = dropped > Number(head.dropped);
    const droppedSeq = dropping ? ++seq : head.dropped_seq;
    if (dropping)
      rows.push({ ...droppedLine(dropped, options.caps, options.now ?? new Date()), seq: seq });
    if (rows.length === 0) return { kept, dropped, lastSeq: seq };
    const json = JSON.stringify(
      rows.map((r) => ({
        seq: r.seq,
        at: r.at.toISOString(),
        level: r.level,
        message: r.message,
        fields: r.fields,
      })),
    );
    await sql`
      with gone as (
        delete from run_log_lines
        where run_id = ${run.id} and seq = ${dropping ? head.dropped_seq : null}::integer),
      added as (
        insert into run_log_lines (run_id, seq, attempt, at, level, message, fields)
        select ${run.id}, r.seq, ${run.attempt}, r.at, r.level, r.message, nullif(r.fields, 'null')
        from jsonb_to_recordset(${json}::jsonb)
          as r(seq integer, at timestamptz, level text, message text, fields jsonb)),
      counted as (
        update run_logs set last_seq = ${seq}, lines = ${count}, bytes = ${bytes},
          dropped = ${dropped}, dropped_seq = ${droppedSeq}::integer
        where run_id = ${run.id})
      select pg_notify(${RUN_LOG_CHANNEL}, json_build_object('id', r.id,
          'workspaceId', r.workspace_id, 'tenantId', r.tenant_id, 'seq', ${seq}::integer)::text)
      from operation_runs r where r.id = ${run.id}`.execute(trx);
    return { kept, dropped, lastSeq: seq };
  });
}
