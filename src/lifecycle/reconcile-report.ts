import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { Clock } from '../domain/run.js';
import type { OperationRegistry } from '../execution/registry.js';
import type { RunService } from '../runs/run-service.js';

export interface ReconcileDeps {
  db: Kysely<Database>;
  runs: RunService;
  registry: OperationRegistry;
  logger: Logger;
  clock?: Clock;
}

export interface ReconcileAction {
  runId: string;
  type: string;
  status: 'queued' | 'running';
  reasonCode: string;
  thresholdSeconds: number;
  sinceSeconds: number;
  /** `failed`: force-failed; `adapter`: the type's adapter settled it; `skipped`: left alone (why). */
  result: 'failed' | 'adapter' | 'skipped' | 'would_fail';
  note?: string;
}

export interface ReconcileReport {
  /** false when another instance held the sweep lock; nothing was examined. */
  swept: boolean;
  examined: number;
  actions: ReconcileAction[];
  unlockedWorkers: string[];
  /** Queued runs past their `expiresAt`, cancelled with `run.expired` (DESIGN §17). */
  expired?: string[];
  /** Fleet parents this sweep completed: their children had all ended (DESIGN §19). */
  fleetsCompleted?: string[];
}
