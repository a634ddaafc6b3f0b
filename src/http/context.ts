import type { Kysely } from 'kysely';
import type { Directory } from '../access/directory.js';
import type { Database } from '../db/schema.js';
import type { OperationRegistry } from '../execution/registry.js';
import type { TerminalCountsCache } from '../lifecycle/summary.js';
import type { Logger } from '../logger.js';
import type { RunService } from '../runs/run-service.js';
import type { CursorCodec } from './cursor.js';

/** What every route plugin is given: the database, the ledger, the catalog and the cursor codec. */
export interface ApiContext {
  db: Kysely<Database>;
  runs: RunService;
  registry: OperationRegistry;
  cursors: CursorCodec;
  logger: Logger;
  now: () => Date;
  /**
   * The directory module the routes write through; its invite links are built from the public URL,
   * and there are none when people sign in elsewhere (embedded in a host, or SSO only).
   */
  directory: Directory;
  /** Shared by summary requests (see TerminalCountsCache); undefined counts every time. */
  terminalCache?: TerminalCountsCache;
}
