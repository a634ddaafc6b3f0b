import { createDirectory, type Directory } from '../../access/directory.js';
import { loadConfig } from '../../config.js';
import type { Db } from '../../db/pool.js';
import { createLogger } from '../../logger.js';
import { installLifecycle } from '../lifecycle.js';
import { migrate, openDatabase, openPool } from '../runtime.js';

/**
 * Runs one `runwarden admin …` verb against the database (DATABASE_URL, or the embedded one),
 * migrated first so it works on a new database too. The directory acts as the CLI (audit source
 * `cli`, no user). Closes everything before returning; a failure exits 1 through main.
 */
export async function withDirectory(
  work: (directory: Directory, db: Db) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  // The verb prints its own report; its logs stay quiet unless LOG_LEVEL asks for them.
  const logger = createLogger(process.env.LOG_LEVEL?.trim() ? config.logLevel : 'warn');
  const lifecycle = installLifecycle(logger);
  const handle = await openDatabase(config, logger, lifecycle);
  await migrate(handle.url, config.dbTimeouts, logger, lifecycle);
  const { db } = openPool(handle.url, lifecycle, {
    max: 2,
    applicationName: 'runwarden-admin',
    timeouts: config.dbTimeouts,
  });
  lifecycle.phase('changing the directory');
  const directory = createDirectory({
    db,
    publicUrl: config.publicUrl,
    actor: { userId: null, kind: 'system', source: 'cli' },
  });
  await work(directory, db);
  if (!(await lifecycle.close())) process.exitCode = 1;
}

/** Reads all of standard input (for `--password-stdin`), without its final newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Prints a validation failure as its list of problems (one a line) and fails the command. */
export function problemsError(what: string, error: unknown): Error {
  const details = (error as { code?: string; details?: { problems?: string[] } }) ?? {};
  if (details.code === 'validation_failed' && details.details?.problems?.length) {
    return new Error(
      `${what} is not valid; nothing was written:\n${details.details.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
