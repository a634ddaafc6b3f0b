import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { migrations } from './migrations/index.js';

export interface MigrateReport {
  applied: string[];
  alreadyApplied: number;
}

/** Applies pending migrations. Idempotent; Kysely's migration lock serializes concurrent callers. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrateReport> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(
      `migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(result.error)}`,
      {
        cause: result.error,
      },
    );
  }
  const applied = (result.results ?? [])
    .filter((r) => r.status === 'Success')
    .map((r) => r.migrationName);
  return { applied, alreadyApplied: Object.keys(migrations).length - applied.length };
}
