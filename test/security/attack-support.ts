import { sql } from 'kysely';
import { expect } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import type { Role } from '../../src/db/schema.js';
import type { ApiHarness, Caller } from '../support/http.js';

// Shared by the attack suites (issues 22, 23): raw requests an attacker would send, and a
// fingerprint of everything a refused request must leave as it was.

export interface Answer {
  status: number;
  body: string;
  json: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

/** One request over real HTTP exactly as given: the caller's headers, minus any left out. */
export async function send(
  base: string,
  caller: Caller | undefined,
  method: string,
  path: string,
  options: { body?: unknown; without?: string[]; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...caller?.headers, ...options.headers };
  for (const name of options.without ?? []) delete headers[name];
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.text();
  let json: Answer['json'] = {};
  try {
    json = JSON.parse(body) as Answer['json'];
  } catch {
    // Not JSON: left empty, the status says what happened.
  }
  return { status: response.status, body, json };
}

/** A cookie session caller with its CSRF header dropped: what a cross-site form would send. */
export function withoutCsrf(caller: Caller): Caller {
  const { 'x-csrf-token': _dropped, ...headers } = caller.headers;
  return { ...caller, name: `${caller.name} (no csrf)`, headers };
}

export function bearer(name: string, token: string): Caller {
  return { name, headers: { authorization: `Bearer ${token}` } };
}

/** An API token acting for `as` (a person token), or for the workspace itself (a service token). */
export async function tokenFor(
  h: ApiHarness,
  spec: { workspace: string; name: string; role: Role; as?: string },
): Promise<Caller> {
  const made = await createDirectory({ db: h.db }).createToken(spec);
  return bearer(spec.name, made.token);
}

/**
 * Everything a refused request could have changed: row counts of the tables runs, fleets, flow
 * control and the audit log live in, the queue's jobs, and a digest of every run's state.
 */
export async function fingerprint(h: ApiHarness): Promise<Record<string, string | number>> {
  const tables = [
    'operation_runs',
    'fleet_children',
    'run_events',
    'notifications',
    'audit_log',
    'flow_pauses',
    'flow_limit_overrides',
    'flow_lanes',
    'api_tokens',
    'memberships',
  ] as const;
  const out: Record<string, string | number> = {};
  for (const table of tables) {
    const row = await h.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  const { rows } = await sql<{ jobs: string; runs: string | null; overrides: string | null }>`
    select (select count(*) from graphile_worker._private_jobs)::text as jobs,
      (select md5(string_agg(concat_ws('|', id, status, outcome, cancel_requested_at, held,
        priority, input::text, tags::text), ',' order by id)) from operation_runs) as runs,
      (select md5(string_agg(concat_ws('|', name, limits::text), ',' order by name))
        from flow_limit_overrides) as overrides`.execute(h.db);
  const digest = rows[0];
  out.jobs = Number(digest?.jobs);
  out.runs = digest?.runs ?? '';
  out.overrides = digest?.overrides ?? '';
  return out;
}

/** Runs `attack` and asserts nothing it could write was written. */
export async function changesNothing<T>(h: ApiHarness, attack: () => Promise<T>): Promise<T> {
  const before = await fingerprint(h);
  const result = await attack();
  expect(await fingerprint(h)).toEqual(before);
  return result;
}

/** A refusal with the error catalog's code (never a 500, never a body naming the target). */
export function refused(answer: Answer, status: number, code: string): void {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.json.error?.code, answer.body).toBe(code);
}
