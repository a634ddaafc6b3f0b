import type { z } from 'zod';
import type { RunRow } from '../db/schema.js';
import type { FlowSpec } from '../domain/flow.js';
import type { LifecyclePolicy } from '../domain/lifecycle.js';
import type { TerminalOutcome } from '../domain/run.js';

/** What a handler gets: its run, an abort signal, and ways to report progress. */
export interface RunContext {
  runId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts on timeout, cancel request and worker shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  /** Determinate progress; also counts as a heartbeat. */
  progress(progress: { processed: number; total?: number | null }): Promise<void>;
  /** Adds `n` (default 1) to the run's `key` count. */
  count(key: string, n?: number): Promise<void>;
  /** Evidence of life for long steps that report nothing else (the worker also beats on its own). */
  heartbeat(): Promise<void>;
  /**
   * The run's log (DESIGN §18): lines stored with the run and this attempt, shown on its page and
   * by `GET /api/operations/:id/logs`; sanitized like failures, capped per run, written in batches
   * (a call never waits for the database).
   */
  log: RunLogger;
}

/** `fields`: a flat or nested object of values worth seeing beside the message. */
export interface RunLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What a handler returns; throwing counts as a failed attempt. */
export interface RunResult {
  outcome: Exclude<TerminalOutcome, 'cancelled'> | 'cancelled';
  counts?: Record<string, number>;
  failures?: Array<{ code: string; message: string }>;
}

/** A source system's state mapped onto a run (external runs, DESIGN §7.6). */
export type ExternalState =
  | { status: 'queued' }
  | { status: 'running' }
  | { status: 'completed'; outcome: TerminalOutcome };

export interface OperationDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Stable dotted name, e.g. `inventory.sync`. */
  type: string;
  label: string;
  /** `tenant`: every run belongs to one tenant; `workspace`: runs have no tenant. */
  scope: 'tenant' | 'workspace';
  input: Schema;
  /** What makes two starts "the same": same identity while one is active → reuse. */
  identity: (input: z.output<Schema>) => unknown;
  lifecycle?: Partial<LifecyclePolicy>;
  /**
   * Flow control (DESIGN §17): runs at once and starts per window, per tenant and across all, and
   * the catalog's shared `flowPools` it draws from. Its runs wait for admission (fair across
   * tenants, within every limit, in PostgreSQL); `flow: {}` is fair dispatch without limits.
   */
  flow?: FlowSpec;
  /** Runwarden's own (bulk actions): not listed among the types, started only by Runwarden. */
  internal?: boolean;
  /** `queue`: run by Runwarden workers; `external`: run elsewhere, reported through the API. */
  execution?: 'queue' | 'external';
  /** Ask the source of truth before the reconciler fails a stale run (DESIGN §7.4). */
  reconcile?: (run: RunRow) => Promise<ExternalState | undefined>;
  /** External types: map the source system's state names onto run states. */
  mapState?: (sourceState: string) => ExternalState | undefined;
  run?: (ctx: RunContext, input: z.output<Schema>) => Promise<RunResult>;
}

/**
 * Declares an operation type. Returns the definition unchanged, typed so `identity` and `run`
 * see the parsed input.
 *
 * @example
 * export const inventorySync = defineOperation({
 *   type: 'inventory.sync', label: 'Inventory sync', scope: 'tenant',
 *   input: z.object({ scope: z.enum(['all', 'policies']) }),
 *   identity: (input) => ({ scope: input.scope }),
 *   async run(ctx, input) { await ctx.progress({ processed: 1, total: 1 }); return { outcome: 'succeeded' }; },
 * });
 */
export function defineOperation<Schema extends z.ZodType>(
  definition: OperationDefinition<Schema>,
): OperationDefinition<Schema> {
  if ((definition.execution ?? 'queue') === 'queue' && !definition.run) {
    throw new Error(
      `operation ${definition.type}: a queue operation needs a run(ctx, input) handler`,
    );
  }
  return definition;
}
