import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';

// What one phase of a benchmark cost the database, per unit of work (a job, a run): statements
// (pg_stat_statements), commits and rows (pg_stat_database), WAL bytes (the insert LSN), and CPU
// of PostgreSQL (its processes in /proc) and of node. Every query here carries MARK, so the
// probe's own statements are left out of what it reports.

const MARK = '/* bench-probe */';

interface Counters {
  statements: number;
  commits: number;
  /** Transaction ids handed out: commits that wrote something (and flushed the WAL). */
  xids: number;
  inserted: number;
  updated: number;
  hotUpdated: number;
  deleted: number;
  lsn: string;
  pgCpuMs: number;
  nodeCpuMs: number;
  /** Of nodeCpuMs, in the kernel (socket writes and reads: every round trip to PostgreSQL). */
  nodeKernelMs: number;
}

export interface TopStatement {
  query: string;
  calls: number;
  /** Executing it, and planning it (every call: our statements are not prepared). */
  ms: number;
  planMs: number;
}

export interface PhaseProfile {
  label: string;
  units: number;
  seconds: number;
  /** Per unit: */
  statements: number;
  commits: number;
  writeCommits: number;
  walBytes: number;
  inserted: number;
  updated: number;
  /** Share of updates of operation_runs and graphile's jobs that were HOT (no index touched). */
  hotShare: number;
  deleted: number;
  pgCpuMs: number;
  nodeCpuMs: number;
  nodeKernelMs: number;
  top: TopStatement[];
}

export interface PhaseMark {
  at: Counters;
  started: number;
}

export class Profiler {
  readonly #client: pg.Client;
  readonly #postmasterPid: number | undefined;
  /** pg_stat_statements is preloaded (an embedded bench cluster) and installed here. */
  readonly statements: boolean;

  private constructor(client: pg.Client, postmasterPid: number | undefined, statements: boolean) {
    this.#client = client;
    this.#postmasterPid = postmasterPid;
    this.statements = statements;
  }

  static async open(url: string, postmasterPid?: number): Promise<Profiler> {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-probe' });
    await client.connect();
    const preload = await client.query<{ on: boolean }>(
      `${MARK} select current_setting('shared_preload_libraries') like '%pg_stat_statements%' as on`,
    );
    const on = preload.rows[0]?.on ?? false;
    if (on) await client.query(`${MARK} create extension if not exists pg_stat_statements`);
    return new Profiler(client, postmasterPid, on);
  }

  /**
   * Starts a phase once every other connection to the database has closed: a backend reports its
   * counters when it exits, so none of the previous phase's work is counted in this one.
   */
  async begin(): Promise<PhaseMark> {
    await this.#quiet();
    if (this.statements) await this.#client.query(`${MARK} select pg_stat_statements_reset()`);
    return { at: await this.#counters(), started: performance.now() };
  }

  /**
   * Ends a phase (after its connections have closed). `extraCommits`: the bench's own polling
   * transactions during the phase, left out of the commits.
   */
  async end(
    mark: PhaseMark,
    label: string,
    units: number,
    options: {
      seconds: number;
      extraCommits?: number;
      extraCpuMs?: number;
      extraKernelMs?: number;
    },
  ): Promise<PhaseProfile> {
    await this.#quiet();
    const now = await this.#counters();
    const walBytes = await this.#client.query<{ bytes: string }>(
      `${MARK} select pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text as bytes`,
      [now.lsn, mark.at.lsn],
    );
    const per = (n: number) => n / units;
    const updated = now.updated - mark.at.updated;
    return {
      label,
      units,
      seconds: options.seconds,
      statements: per(now.statements - mark.at.statements),
      commits: per(now.commits - mark.at.commits - (options.extraCommits ?? 0)),
      writeCommits: per(now.xids - mark.at.xids),
      walBytes: per(Number(walBytes.rows[0]?.bytes ?? 0)),
      inserted: per(now.inserted - mark.at.inserted),
      updated: per(updated),
      hotShare: updated > 0 ? (now.hotUpdated - mark.at.hotUpdated) / updated : 0,
      deleted: per(now.deleted - mark.at.deleted),
      pgCpuMs: per(now.pgCpuMs - mark.at.pgCpuMs),
      nodeCpuMs: per(now.nodeCpuMs - mark.at.nodeCpuMs + (options.extraCpuMs ?? 0)),
      nodeKernelMs: per(now.nodeKernelMs - mark.at.nodeKernelMs + (options.extraKernelMs ?? 0)),
      top: await this.#top(),
    };
  }

  async close(): Promise<void> {
    await this.#client.end();
  }

  async #quiet(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const others = await this.#client.query<{ n: number }>(
        `${MARK} select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      );
      if (others.rows[0]?.n === 0 || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #counters(): Promise<Counters> {
    await this.#client.query(`${MARK} select pg_stat_clear_snapshot()`);
    const db = await this.#client.query<Record<string, string>>(
      `${MARK} select xact_commit::text as commits, tup_inserted::text as inserted,
         tup_updated::text as updated, tup_deleted::text as deleted,
         (select coalesce(sum(n_tup_hot_upd), 0)::text from pg_stat_all_tables
           where relname in ('operation_runs', '_private_jobs', 'run_events')) as hot,
         pg_current_wal_insert_lsn()::text as lsn,
         pg_snapshot_xmax(pg_current_snapshot())::text as xids
       from pg_stat_database where datname = current_database()`,
    );
    const row = db.rows[0] ?? {};
    let statements = 0;
    if (this.statements) {
      const s = await this.#client.query<{ n: string }>(
        `${MARK} select coalesce(sum(calls), 0)::text as n from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())
            and query not like '%bench-probe%'`,
      );
      statements = Number(s.rows[0]?.n ?? 0);
    }
    const cpu = process.cpuUsage();
    return {
      statements,
      commits: Number(row.commits),
      xids: Number(row.xids),
      inserted: Number(row.inserted),
      updated: Number(row.updated),
      hotUpdated: Number(row.hot),
      deleted: Number(row.deleted),
      lsn: row.lsn ?? '0/0',
      pgCpuMs: this.#postmasterPid ? await postgresCpuMs(this.#postmasterPid) : 0,
      nodeCpuMs: (cpu.user + cpu.system) / 1000,
      nodeKernelMs: cpu.system / 1000,
    };
  }

  async #top(): Promise<TopStatement[]> {
    if (!this.statements) return [];
    const rows = await this.#client.query<{
      query: string;
      calls: string;
      ms: number;
      plan: number;
    }>(
      `${MARK} select s.query, s.calls::text as calls, s.total_exec_time as ms,
         s.total_plan_time as plan from pg_stat_statements s
        where s.dbid = (select oid from pg_database where datname = current_database())
          and s.query not like '%bench-probe%'
        order by s.calls desc, s.total_exec_time desc limit 8`,
    );
    return rows.rows.map((r) => ({
      query: r.query,
      calls: Number(r.calls),
      ms: r.ms,
      planMs: r.plan,
    }));
  }
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU of a process from /proc/<pid>/stat: its own, plus its exited children's when `children`. */
export async function processCpuMs(pid: number, children = false): Promise<number> {
  const { user, kernel } = await processCpu(pid, children);
  return user + kernel;
}

/** A process's CPU split into user and kernel (system) time, ms. */
export async function processCpu(
  pid: number,
  children = false,
): Promise<{ user: number; kernel: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may contain spaces) start at state (field 3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (field: number) => Number(fields[field - 3] ?? 0);
  return {
    user: (at(14) + (children ? at(16) : 0)) * TICK_MS,
    kernel: (at(15) + (children ? at(17) : 0)) * TICK_MS,
  };
}

/** The postmaster, its live processes, and (through the postmaster) the backends that exited. */
async function postgresCpuMs(postmasterPid: number): Promise<number> {
  let total = await processCpuMs(postmasterPid, true);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmasterPid) total += await processCpuMs(Number(entry));
  }
  return total;
}

/** The profiles side by side, one column per phase, then each phase's top statements. */
export function profileTable(phases: PhaseProfile[]): string {
  const num = (digits: number) => (n: number) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const rows: Array<[string, (p: PhaseProfile) => string]> = [
    ['units (jobs or runs)', (p) => String(p.units)],
    ['rate /s', (p) => num(0)(p.units / p.seconds)],
    ['SQL statements', (p) => num(1)(p.statements)],
    ['commits', (p) => num(2)(p.commits)],
    ['  that wrote (xids)', (p) => num(2)(p.writeCommits)],
    ['WAL bytes', (p) => num(0)(p.walBytes)],
    ['rows inserted', (p) => num(2)(p.inserted)],
    ['rows updated', (p) => num(2)(p.updated)],
    ['  of them HOT', (p) => `${Math.round(p.hotShare * 100)}%`],
    ['rows deleted', (p) => num(2)(p.deleted)],
    ['PostgreSQL CPU ms', (p) => num(2)(p.pgCpuMs)],
    ['node CPU ms', (p) => num(2)(p.nodeCpuMs)],
    ['  of it in the kernel', (p) => num(2)(p.nodeKernelMs)],
  ];
  const width = 16;
  const head = `${'per unit'.padEnd(24)}${phases.map((p) => p.label.padStart(width)).join('')}`;
  const lines = [
    head,
    ...rows.map(
      ([name, f]) => `${name.padEnd(24)}${phases.map((p) => f(p).padStart(width)).join('')}`,
    ),
  ];
  for (const p of phases) {
    if (p.top.length === 0) continue;
    lines.push(
      `top statements, ${p.label} (per unit: calls, execution ms, planning ms; statement):`,
    );
    for (const t of p.top.filter((s) => s.calls / p.units >= 0.01))
      lines.push(
        `  ${(t.calls / p.units).toFixed(2).padStart(6)} ${(t.ms / p.units).toFixed(3).padStart(7)} ${(t.planMs / p.units).toFixed(3).padStart(7)}  ${t.query.replace(/\s+/g, ' ').slice(0, 100)}`,
      );
  }
  return lines.join('\n');
}
