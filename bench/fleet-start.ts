import { Kysely, PostgresDialect } from 'kysely';
import { preparingPool } from '../src/db/prepared.js';
import type { Database } from '../src/db/schema.js';
import { startFleet } from '../src/fleet/start-fleet.js';
import { RunService } from '../src/runs/run-service.js';
import { type FleetFixture, resetFleets } from './fleet-fixture.js';

export type StartPath = 'library' | 'http' | 'raw-each' | 'raw-batch' | 'round-trips';

/** A fleet's input: children of 50–200 ms; `tag` keeps fleets apart (their identities differ). */
export const fleetInput = (tag: string) => ({ minMs: 50, maxMs: 200, tag });

/**
 * One start of `active` children (after a reset, not timed): through the library, through HTTP,
 * or the raw queue underneath: `raw-each` is graphile-worker's `add_job` once per child (the call
 * `addJob` makes, as the start path makes it), `active` round trips in one transaction;
 * `raw-batch` is its batch `add_jobs` (what `addJobs` calls in later versions) over as many
 * `job_spec`s, ONE statement; `round-trips` is `select 1` as many times (the floor of one round
 * trip per child). Milliseconds.
 */
export async function timeStart(
  f: FleetFixture,
  path: StartPath,
  type: string,
  tag: string,
  active: number,
): Promise<number> {
  await resetFleets(f);
  const t0 = performance.now();
  if (path === 'library') {
    const started = await f.rw.startFleet({
      type,
      workspace: 'contoso',
      tenants: 'all',
      input: fleetInput(tag),
      initiator: 'owner@demo.test',
    });
    const ms = performance.now() - t0;
    if (started.children.started !== active) throw new Error(`started ${started.children.started}`);
    return ms;
  }
  if (path === 'http') {
    const res = await fetch(`${f.base}/api/workspaces/contoso/fleet-operations`, {
      method: 'POST',
      headers: {
        cookie: f.cookie,
        'x-csrf-token': f.csrfToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ type, tenants: 'all', input: fleetInput(tag) }),
    });
    const body = (await res.json()) as { children: { started: number } };
    const ms = performance.now() - t0;
    if (res.status !== 202 || body.children.started !== active)
      throw new Error(`POST fleet-operations: ${res.status} ${JSON.stringify(body)}`);
    return ms;
  }
  const client = await f.pool.connect();
  try {
    await client.query('begin');
    if (path === 'round-trips') {
      for (let i = 0; i < active; i++) await client.query('select 1');
    } else if (path === 'raw-each') {
      for (let i = 0; i < active; i++) {
        await client.query(
          `select id from graphile_worker.add_job(identifier => $1::text, payload => $2::json,
             max_attempts => 1, job_key => $3::text, job_key_mode => 'replace')`,
          [type, JSON.stringify({ runId: `${tag}-${i}` }), `${tag}-${i}`],
        );
      }
    } else {
      await client.query(
        `select count(*) from graphile_worker.add_jobs(array(
           select row($1::text, json_build_object('runId', $2::text || '-' || g), null, null, 1,
                      $2::text || '-' || g, 0, null)::graphile_worker.job_spec
           from generate_series(1, $3::int) g))`,
        [type, tag, active],
      );
    }
    await client.query('commit');
  } finally {
    client.release();
  }
  const ms = performance.now() - t0;
  if (path === 'round-trips') return ms;
  const { rows } = await f.pool.query<{ n: number }>(
    'select count(*)::int as n from graphile_worker._private_jobs',
  );
  if (rows[0]?.n !== active) throw new Error(`${path}: ${rows[0]?.n} jobs`);
  return ms;
}

export interface StatementCost {
  sql: string;
  calls: number;
  ms: number;
}

/**
 * One library start (the same `startFleet`) over a Kysely that records every statement: where
 * its time goes, statement by statement (grouped by SQL text), and the wall time beside them.
 */
export async function startCosts(
  f: FleetFixture,
  type: string,
  tag: string,
): Promise<{ wallMs: number; statements: StatementCost[] }> {
  await resetFleets(f);
  const seen = new Map<string, StatementCost>();
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: preparingPool(f.pool) }),
    log: (event) => {
      if (event.level !== 'query') return;
      const text = event.query.sql.replace(/\s+/g, ' ');
      const cost = seen.get(text) ?? { sql: text, calls: 0, ms: 0 };
      cost.calls += 1;
      cost.ms += event.queryDurationMillis;
      seen.set(text, cost);
    },
  });
  // Not destroyed after: its pool is the fixture's (Kysely holds nothing else).
  const t0 = performance.now();
  await startFleet(
    { db, runs: new RunService({ db }), registry: f.registry },
    {
      type,
      workspaceId: f.workspaceId,
      tenants: 'all',
      input: fleetInput(tag),
      initiatorUserId: null,
    },
  );
  const wallMs = performance.now() - t0;
  return { wallMs, statements: [...seen.values()].sort((a, b) => b.ms - a.ms) };
}
