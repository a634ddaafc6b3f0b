import type { Kysely, Transaction } from 'kysely';
import type { Database, RunRow } from '../db/schema.js';
import { RunwardenError } from '../domain/errors.js';
import { PRIORITY_RANK, type Priority } from '../domain/flow-limits.js';
import { startsAt, timingProblem } from '../domain/start-timing.js';
import { enterLane } from '../flow/lanes.js';
import type { RunService } from '../runs/run-service.js';
import { enqueueRun } from './queue.js';
import type { OperationRegistry, RegisteredOperation } from './registry.js';

/** Tags a run may carry (DESIGN §18). */
export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 64;

export interface StartRequest {
  type: string;
  workspaceId: string;
  tenantId?: string | null;
  input: unknown;
  /** null for system and scheduled runs. */
  initiatorUserId: string | null;
  /** A service token that started it (no person did). */
  initiatorTokenId?: string | null;
  context?: Record<string, unknown>;
  retryOf?: string | null;
  /** The run this one runs again (DESIGN §18). */
  rerunOf?: string | null;
  /** For search (DESIGN §18): at most 10, each 1–64 characters. */
  tags?: readonly string[];
  /** Reorders waiting work (DESIGN §17); never pre-empts. Default `normal`. */
  priority?: Priority;
  /** Not before this instant (or `delaySeconds` from now; not both). */
  runAt?: Date;
  delaySeconds?: number;
  /** Still queued then: cancelled with `run.expired`. */
  expiresAt?: Date;
  /** The fleet starting it (DESIGN §19). */
  parentId?: string | null;
  /** Runwarden starting one of its own types (a bulk action); no one else may. */
  internal?: boolean;
}

export interface StartDeps {
  db: Kysely<Database>;
  runs: RunService;
  registry: OperationRegistry;
  /** Replaceable for tests that force the enqueue to fail; defaults to graphile-worker. */
  enqueue?: typeof enqueueRun;
}

/**
 * The one start path (DESIGN §7.1): validate input → legitimacy checks a start needs → create or
 * reuse the run and enqueue its job in ONE transaction. Never waits for the work.
 */
export async function startRun(
  deps: StartDeps,
  request: StartRequest,
): Promise<{ run: RunRow; reused: boolean }> {
  return await deps.db.transaction().execute((trx) => startRunIn(trx, deps, request));
}

/** `startRun` inside the caller's transaction (a fleet starts all its children in one). */
export async function startRunIn(
  trx: Transaction<Database>,
  deps: StartDeps,
  request: StartRequest,
): Promise<{ run: RunRow; reused: boolean }> {
  const operation = deps.registry.get(request.type);
  if (!operation || (operation.internal && !request.internal)) {
    throw new RunwardenError('unknown_type', `there is no operation type "${request.type}"`, {
      details: { type: request.type },
    });
  }
  const parsed = operation.input.safeParse(request.input ?? {});
  if (!parsed.success) {
    throw new RunwardenError('invalid_input', `the input does not fit ${operation.type}`, {
      details: {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    });
  }
  const tenantId = await checkScope(trx, operation, request);
  const timing = checkTiming(operation, request, new Date());
  // Held: it waits for admission (its type's limits, pauses, fair share, or its runAt).
  const held =
    operation.execution === 'queue' && (operation.flow !== undefined || timing.runAt !== null);
  const priority = PRIORITY_RANK[request.priority ?? 'normal'];
  const enqueue = deps.enqueue ?? enqueueRun;
  const started = await deps.runs.createOrReuse(
    {
      workspaceId: request.workspaceId,
      tenantId,
      type: operation.type,
      identity: operation.identity(parsed.data),
      input: parsed.data as Record<string, unknown>,
      initiatorUserId: request.initiatorUserId,
      initiatorTokenId: request.initiatorTokenId ?? null,
      context: request.context,
      retryOf: request.retryOf ?? null,
      rerunOf: request.rerunOf ?? null,
      tags: checkTags(request.tags),
      held,
      priority,
      runAt: timing.runAt,
      expiresAt: timing.expiresAt,
      parentId: request.parentId ?? null,
    },
    { trx },
  );
  if (started.reused || operation.execution === 'external') return started;
  if (held) {
    await enterLane(trx, started.run);
    return started;
  }
  try {
    await enqueue(trx, {
      taskIdentifier: operation.taskIdentifier,
      runId: started.run.id,
      maxAttempts: operation.policy.retries + 1,
      priority,
    });
  } catch (error) {
    throw new RunwardenError(
      'enqueue_failed',
      `could not queue ${operation.type}; nothing was started`,
      {
        cause: error,
      },
    );
  }
  return started;
}

/** Tags as stored: trimmed, each once, in the order given; too many or too long is refused. */
function checkTags(tags: readonly string[] | undefined): string[] {
  const kept = [...new Set((tags ?? []).map((t) => t.trim()))];
  const problem =
    kept.length > MAX_TAGS
      ? `at most ${MAX_TAGS} tags`
      : kept.find((t) => t.length === 0 || t.length > MAX_TAG_LENGTH) !== undefined
        ? `each tag is 1 to ${MAX_TAG_LENGTH} characters`
        : undefined;
  if (problem) throw new RunwardenError('invalid_input', `tags: ${problem}`);
  return kept;
}

/** The tenant exists in this workspace, is active, and fits the type's scope. */
async function checkScope(
  db: Kysely<Database>,
  operation: RegisteredOperation,
  request: StartRequest,
): Promise<string | null> {
  const tenantId = request.tenantId ?? null;
  if (operation.scope === 'workspace') {
    if (tenantId) {
      throw new RunwardenError(
        'invalid_input',
        `${operation.type} is a workspace operation; it takes no tenant`,
      );
    }
    return null;
  }
  if (!tenantId) throw new RunwardenError('invalid_input', `${operation.type} needs a tenant`);
  const tenant = await db
    .selectFrom('tenants')
    .select(['status'])
    .where('id', '=', tenantId)
    .where('workspace_id', '=', request.workspaceId)
    .executeTakeFirst();
  if (!tenant) throw new RunwardenError('not_found', 'No such tenant.');
  if (tenant.status !== 'active') {
    throw new RunwardenError(
      'tenant_inactive',
      'the tenant is inactive; operations cannot start on it',
      {
        details: { reasonCode: 'gate.tenant_inactive' },
      },
    );
  }
  return tenantId;
}

/** `runAt` / `delaySeconds` / `expiresAt` as instants, checked against each other and `now`. */
function checkTiming(
  operation: RegisteredOperation,
  request: StartRequest,
  now: Date,
): { runAt: Date | null; expiresAt: Date | null } {
  if (
    operation.execution === 'external' &&
    (request.runAt !== undefined ||
      request.delaySeconds !== undefined ||
      request.expiresAt !== undefined)
  )
    throw new RunwardenError(
      'invalid_input',
      `${operation.type} runs elsewhere (external): runAt, delaySeconds and expiresAt apply to queue types`,
    );
  const problem = timingProblem(request, now);
  if (problem) throw new RunwardenError('invalid_input', problem.message);
  // A time already come is "now": no wait, and no "Scheduled" copy.
  return { runAt: startsAt(request, now), expiresAt: request.expiresAt ?? null };
}
