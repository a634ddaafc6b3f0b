import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { PolicyOf } from '../domain/lifecycle.js';
import { activeSql, type SqlJudge, sqlJudge } from '../domain/run-classes.js';

/**
 * The judge the SQL classes need at `now`: the policy of every type with an active run (the
 * partial active index serves the read). Only the active buckets need it; a read that asks for
 * none of them gets a judge without policies and skips the query.
 */
export async function judgeAt(
  db: Kysely<Database>,
  policyOf: PolicyOf,
  now: Date,
  needed = true,
): Promise<SqlJudge> {
  if (!needed) return sqlJudge(now);
  const types = await db
    .selectFrom('operation_runs')
    .select('type')
    .distinct()
    .where(activeSql(sqlJudge(now)))
    .execute();
  return sqlJudge(
    now,
    types.map(({ type }) => [type, policyOf(type)] as const),
  );
}
