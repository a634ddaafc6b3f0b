import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database, Role } from '../db/schema.js';
import { LIST_BUCKETS } from '../domain/buckets.js';
import { outranks, roleCan } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';
import { wakeAdmitters } from '../flow/lanes.js';
import { recordAudits } from '../runs/audit.js';
import { type BulkTarget, countTargets, nextTargets, targetJudge } from '../runs/bulk-reads.js';
import { findRuns } from '../runs/run-reads.js';
import type { RunService } from '../runs/run-service.js';
import { cancelRun } from './cancel.js';
import { defineOperation, type RunContext } from './operation.js';
import { removeQueuedJobs } from './queue.js';
import type { OperationRegistry } from './registry.js';
import { startRun } from './start.js';

/** The type of a bulk action's own run (DESIGN §18). */
export const BULK_ACTION_TYPE = 'runwarden.bulk_action';
/** Runs acted on per transaction (and per progress report). */
const BATCH = 500;

const Search = z.object({
  idPrefix: z.string().optional(),
  tag: z.string().optional(),
  failureCode: z.string().optional(),
  rerunOf: z.string().optional(),
  input: z.array(z.object({ path: z.array(z.string()), value: z.string() })).optional(),
});

/** A bulk action's input: what to do, to which runs, for whom (their rights when they asked). */
export const BulkInput = z.object({
  action: z.enum(['cancel', 'retry']),
  ids: z.array(z.uuid()).optional(),
  filter: z
    .object({
      type: z.string().optional(),
      tenantId: z.string().optional(),
      initiator: z.string().optional(),
      from: z.string(),
      to: z.string().optional(),
      ended: z.object({ from: z.string(), to: z.string() }).optional(),
      bucket: z.enum(LIST_BUCKETS),
      search: Search.optional(),
    })
    .optional(),
  by: z.object({
    userId: z.string().nullable(),
    tokenId: z.string().nullable(),
    actorKind: z.string(),
    tenantIds: z.array(z.string()).nullable(),
  }),
  nonce: z.string(),
});
export type BulkInput = z.infer<typeof BulkInput>;

export interface BulkDeps {
  db: Kysely<Database>;
  runs: RunService;
  registry: OperationRegistry;
}

/** The target a bulk action's input names, in its workspace. */
export function targetOf(workspaceId: string, input: BulkInput): BulkTarget {
  return {
    workspaceId,
    action: input.action,
    tenantIds: input.by.tenantIds,
    ...(input.ids ? { ids: input.ids } : {}),
    ...(input.filter ? { filter: input.filter as BulkTarget['filter'] } : {}),
  };
}

/** Adds Runwarden's own types to a process's registry (once). */
export function registerBuiltins(deps: BulkDeps): void {
  if (!deps.registry.get(BULK_ACTION_TYPE)) deps.registry.register(bulkActionOperation(deps));
}

/**
 * Runwarden's own operation type for bulk cancel and retry (DESIGN §18): it walks the runs that
 * match in id order, a batch per transaction, acting only on those that still match and that the
 * caller may act on; idempotent per run (a cancelled run no longer matches, a retried one has its
 * retry), so a second attempt continues where the first stopped.
 */
export function bulkActionOperation(deps: BulkDeps) {
  return defineOperation({
    type: BULK_ACTION_TYPE,
    label: 'Bulk action',
    scope: 'workspace',
    internal: true,
    input: BulkInput,
    identity: (input) => ({ nonce: input.nonce }),
    lifecycle: { retries: 2 },
    run: async (ctx, input) => await runBulkAction(deps, ctx, input),
  });
}

async function runBulkAction(deps: BulkDeps, ctx: RunContext, input: BulkInput) {
  const self = await deps.runs.get(ctx.runId);
  if (!self) throw new Error(`bulk action ${ctx.runId} vanished`);
  const rights = await rightsNow(deps.db, self.workspace_id, input);
  if (!rights) {
    return {
      outcome: 'blocked' as const,
      failures: [
        {
          code: 'bulk.rights_ended',
          message: 'Whoever asked for this may no longer do it in this workspace.',
        },
      ],
    };
  }
  const reads = { db: deps.db, policyOf: deps.registry.policyOf };
  const target = { ...targetOf(self.workspace_id, input), tenantIds: rights.tenantIds };
  const judges = await targetJudge(reads, target, new Date());
  const total = await countTargets(reads, target, judges.judge.now, judges.judge);
  const counts: Record<string, number> = {};
  const add = (key: string, n = 1) => {
    if (n > 0) counts[key] = (counts[key] ?? 0) + n;
  };
  let after: string | null = null;
  let done = 0;
  await ctx.progress({ processed: 0, total });
  for (;;) {
    if (ctx.signal.aborted) return { outcome: 'cancelled' as const, counts };
    const batch = await nextTargets(reads, target, judges.at(new Date()), after, BATCH);
    if (batch.length === 0) break;
    after = batch.at(-1)?.id ?? after;
    if (input.action === 'cancel') await cancelBatch(deps, self.workspace_id, input, batch, add);
    else await retryBatch(deps, self.workspace_id, input, batch, add);
    done += batch.length;
    await ctx.progress({ processed: done, total: Math.max(total, done) });
  }
  const skipped = counts.skipped ?? 0;
  return {
    outcome:
      skipped > 0 && skipped === done
        ? ('failed' as const)
        : skipped > 0
          ? ('partially_succeeded' as const)
          : ('succeeded' as const),
    counts,
    ...(skipped > 0
      ? {
          failures: [{ code: 'bulk.skipped', message: `${skipped} run(s) could not be acted on.` }],
        }
      : {}),
  };
}

type Add = (key: string, n?: number) => void;

/**
 * The asker's rights now, not when they asked (DESIGN §10: rights end with the membership or the
 * token): their tenant restriction, narrowed by the one they had then; undefined if none is left.
 */
async function rightsNow(
  db: Kysely<Database>,
  workspaceId: string,
  input: BulkInput,
): Promise<{ tenantIds: readonly string[] | null } | undefined> {
  const capability = input.action === 'cancel' ? 'operations.cancel' : 'operations.start';
  const grant = await grantNow(db, workspaceId, input.by);
  if (!grant || !roleCan(grant.role, capability)) return undefined;
  const then = input.by.tenantIds;
  const now = grant.tenant_ids;
  if (then === null) return { tenantIds: now };
  return { tenantIds: now === null ? then : then.filter((t) => now.includes(t)) };
}

type Grant = { role: Role; tenant_ids: string[] | null };

/**
 * What the asker holds now, as the gate would find it (`loadTokenPrincipal`): a token while it is
 * not revoked; a service token its role over every tenant; a person's token, or the person, their
 * membership while they are not disabled, a token never above it.
 */
async function grantNow(
  db: Kysely<Database>,
  workspaceId: string,
  by: BulkInput['by'],
): Promise<Grant | undefined> {
  const token = by.tokenId
    ? await db
        .selectFrom('api_tokens')
        .select(['role', 'created_by'])
        .where('id', '=', by.tokenId)
        .where('workspace_id', '=', workspaceId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
    : undefined;
  if (by.tokenId && !token) return undefined;
  if (token && token.created_by === null) return { role: token.role, tenant_ids: null };
  const userId = token?.created_by ?? by.userId;
  if (!userId) return undefined;
  const member = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['memberships.role', 'memberships.tenant_ids'])
    .where('memberships.user_id', '=', userId)
    .where('memberships.workspace_id', '=', workspaceId)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!member) return undefined;
  if (token && !outranks(token.role, member.role)) return { ...member, role: token.role };
  return member;
}

async function cancelBatch(
  deps: BulkDeps,
  workspaceId: string,
  input: BulkInput,
  batch: Array<{ id: string; fleet: boolean }>,
  add: Add,
) {
  const by = { userId: input.by.userId };
  const plain = batch.filter((r) => !r.fleet).map((r) => r.id);
  const changed = await deps.db.transaction().execute(async (trx) => {
    const moved = await deps.runs.cancelMany(plain, by, { trx });
    await removeQueuedJobs(
      trx,
      moved.cancelled.map((r) => r.id),
    );
    if (moved.cancelled.some((r) => r.eligible_at !== null)) await wakeAdmitters(trx);
    const audits = [
      ...moved.cancelled.map((r) => ({ id: r.id, effect: 'cancelled' })),
      ...moved.requested.map((r) => ({ id: r.id, effect: 'cancel_requested' })),
    ];
    await recordAudits(
      trx,
      audits.map((a) => audit(input, workspaceId, 'run.cancel', a.id, { effect: a.effect })),
    );
    add('cancelled', moved.cancelled.length);
    add('cancel_requested', moved.requested.length);
    return audits.length;
  });
  // A fleet's parent cancels its children with it, in its own transaction.
  for (const parent of batch.filter((r) => r.fleet)) {
    const result = await cancelRun(deps, parent.id, by).catch(() => undefined);
    if (result?.moved) add(result.effect ?? 'cancel_requested');
  }
  add('unchanged', plain.length - changed);
}

async function retryBatch(
  deps: BulkDeps,
  workspaceId: string,
  input: BulkInput,
  batch: Array<{ id: string }>,
  add: Add,
) {
  for (const run of await findRuns(
    deps.db,
    batch.map((r) => r.id),
  )) {
    try {
      const started = await startRun(deps, {
        type: run.type,
        workspaceId: run.workspace_id,
        tenantId: run.tenant_id,
        input: run.input,
        initiatorUserId: input.by.userId,
        // As a start would name them: a person's token starts in the person's name.
        initiatorTokenId: input.by.userId ? null : input.by.tokenId,
        retryOf: run.id,
        tags: run.tags,
      });
      await recordAudits(deps.db, [
        audit(input, workspaceId, 'run.start', started.run.id, {
          retryOf: run.id,
          reused: started.reused,
        }),
      ]);
      add(started.reused ? 'joined' : 'retried');
    } catch (error) {
      if (!(error instanceof RunwardenError)) throw error;
      add('skipped');
    }
  }
}

function audit(
  input: BulkInput,
  workspaceId: string,
  action: string,
  runId: string,
  details: Record<string, unknown>,
) {
  return {
    actor: { userId: input.by.userId, kind: input.by.actorKind as 'user' },
    action,
    workspaceId,
    target: { type: 'run', id: runId },
    details: { ...details, bulk: true },
  };
}
