import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type EmbeddedCluster, startEmbeddedPostgres } from './embedded/cluster.js';

export interface DatabaseHandle {
  url: string;
  /** Present when this process started the embedded cluster (and must stop it last). */
  embedded?: EmbeddedCluster;
}

/** `DATABASE_URL` when set; otherwise the embedded cluster under `RUNWARDEN_DATA_DIR`. */
export async function openDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    logger.info(
      { database: redactUrl(config.databaseUrl) },
      'using the PostgreSQL at DATABASE_URL',
    );
    return { url: config.databaseUrl };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.embeddedPgPort,
    runtimeDir: config.embeddedRuntimeDir,
    logger,
  });
  return { url: embedded.url, embedded };
}

/** A connection string safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable connection string)';
  }
}
