import { type Kysely, sql } from 'kysely';
import type { Database } from '../src/db/schema.js';
import { progress } from './support.js';

/** One request kind bench `api` measures. */
export interface Kind {
  label: string;
  path: string;
  target?: number;
  /** Requests in its measurement (default BENCH_REQUESTS). */
  requests?: number;
  /** Print the whole EXPLAIN (ANALYZE, BUFFERS) of its SQL, however fast. */
  plan?: boolean;
}

interface SearchPage {
  items: Array<{
    id: string;
    tags: string[];
    outcome: string;
    failures: Array<{ code: string }>;
    truth: { bucket: string };
  }>;
}

/**
 * The list's search (DESIGN §18) as request kinds, values picked from the seeded history inside
 * the list's default window (30 days): a run id's first 8 characters, a rare tag (`ticket-<n>`,
 * ~20 runs in 60 days) and a common one (`nightly`, 30 % of runs), an input value (`policyId`,
 * ~50 runs), a failure code (~1 in 330 runs); each alone and with a bucket. Each is checked to
 * answer what it asks for, so the timings are of real answers.
 */
export async function searchKinds(
  db: Kysely<Database>,
  list: string,
  get: <T>(path: string) => Promise<T>,
  options: { requests: number; target: number },
): Promise<Kind[]> {
  const pick = await sql<{ id: string; ticket: string; policy: string }>`
    select id::text, (select tags[2] from operation_runs t where 'manual' = any(t.tags)
                        and t.created_at > now() - interval '10 days' limit 1) as ticket,
           input->>'policyId' as policy
    from operation_runs where outcome = 'succeeded' and created_at > now() - interval '10 days'
    limit 1`.execute(db);
  const { id, ticket, policy } = pick.rows[0] ?? { id: '', ticket: '', policy: '' };
  const code = 'upstream.503';
  const prefix = id.slice(0, 8);
  const terms: Array<{ label: string; query: string; bucket: string; check: Check }> = [
    {
      label: `q=${prefix} (id prefix of 8)`,
      query: `q=${prefix}`,
      bucket: 'succeeded',
      check: (r) => r.id.startsWith(prefix),
    },
    {
      label: `tag=${ticket} (rare)`,
      query: `tag=${ticket}`,
      bucket: 'succeeded',
      check: (r) => r.tags.includes(ticket),
    },
    {
      label: 'tag=nightly (30 % of runs)',
      query: 'tag=nightly',
      bucket: 'terminal_follow_up',
      check: (r) => r.tags.includes('nightly'),
    },
    {
      label: `input.policyId=${policy}`,
      query: `input.policyId=${policy}`,
      bucket: 'succeeded',
      check: () => true, // checked in the database below
    },
    {
      label: `failureCode=${code}`,
      query: `failureCode=${code}`,
      bucket: 'terminal_follow_up',
      check: (r) => r.failures.at(-1)?.code === code,
    },
  ];
  const kinds: Kind[] = [];
  for (const term of terms) {
    for (const bucket of [undefined, term.bucket]) {
      const path = `${list}&${term.query}${bucket ? `&bucket=${bucket}` : ''}`;
      const page = await get<SearchPage>(path);
      if (!bucket && page.items.length === 0) throw new Error(`${path}: no runs found`);
      if (page.items.some((r) => !term.check(r) || (bucket && r.truth.bucket !== bucket)))
        throw new Error(`${path}: a run that does not match`);
      const ids = page.items.map((r) => r.id);
      const held = await sql<{ n: string }>`select count(*) as n from operation_runs
        where id = any(${ids}::uuid[]) and input->>'policyId' = ${policy}`.execute(db);
      if (term.query.startsWith('input.') && Number(held.rows[0]?.n) !== ids.length)
        throw new Error(`${path}: a run whose input does not hold the value`);
      const label = `search ${term.label}${bucket ? ` + bucket=${bucket}` : ''}`;
      progress(`${label}: ${page.items.length} runs on page 1`);
      kinds.push({ label, path, target: options.target, requests: options.requests, plan: true });
    }
  }
  return kinds;
}

type Check = (run: SearchPage['items'][number]) => boolean;
