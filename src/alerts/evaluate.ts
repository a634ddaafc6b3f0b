import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  type AlertCondition,
  type AlertEvent,
  describeCondition,
  endingOf,
  isPeriodic,
  nextAllowed,
  ruleCounts,
} from '../domain/alert-rules.js';
import { percentileOf } from '../domain/histogram.js';
import type { PolicyOf } from '../domain/lifecycle.js';
import { uuidv7 } from '../domain/uuid.js';
import { seeScopes } from '../domain/visibility.js';
import { endedSince } from '../insights/charts.js';
import { judgeAt } from '../runs/judge.js';
import { inBucket } from '../runs/run-reads.js';

/** The runs an alert names at most (its count says how many it stands for). */
export const ALERT_SAMPLE = 20;
export const EVALUATE_TASK = 'runwarden:alerts.evaluate';
export const DELIVER_TASK = 'runwarden:alerts.deliver';

export interface AlertDeps {
  db: Kysely<Database>;
  /** Where people open a run (RUNWARDEN_PUBLIC_URL). */
  publicUrl: string;
  policyOf: PolicyOf;
  now?: () => Date;
}

/** What a webhook receives (DESIGN §18), and what Slack and email are written from. */
export interface AlertPayload {
  id: string;
  rule: { id: string; name: string; condition: string };
  workspace: { id: string; slug: string; name: string };
  count: number;
  runs: Array<{ id: string; type: string; tenant: string | null; outcome: string; link: string }>;
  at: string;
  test?: boolean;
}

interface RuleRow {
  id: string;
  name: string;
  condition: unknown;
  throttle_minutes: number;
  pending_count: number;
  pending_runs: string[];
  last_alert_at: Date | null;
}

/**
 * Evaluates a workspace's rules (DESIGN §18), in one transaction under the workspace's lock: the
 * ended runs waiting for it are taken out, each rule that counts them adds them to what it holds,
 * and a rule whose throttle allows sends one alert for all it holds (a delivery and its job, in
 * the same commit). A rule held back asks to be evaluated again when its throttle ends.
 * `periodic`: also the rules on a clock (queue wait, likely stale).
 */
export async function evaluateWorkspace(
  deps: AlertDeps,
  workspaceId: string,
  options: { periodic?: boolean } = {},
): Promise<{ sent: number }> {
  const now = (deps.now ?? (() => new Date()))();
  return await deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`runwarden-alerts:${workspaceId}`}, 0))`.execute(
      trx,
    );
    const { rows: taken } = await sql<{
      run_id: string;
      type: string;
      tenant_id: string | null;
      outcome: string;
      reconciled: boolean;
    }>`delete from alert_events where workspace_id = ${workspaceId}
       returning run_id, type, tenant_id, outcome, reconciled`.execute(trx);
    const events: AlertEvent[] = taken.map((e) => ({
      runId: e.run_id,
      type: e.type,
      tenantId: e.tenant_id,
      outcome: e.outcome,
      reconciled: e.reconciled,
    }));
    const rules = await trx
      .selectFrom('alert_rules')
      .select([
        'id',
        'name',
        'condition',
        'throttle_minutes',
        'pending_count',
        'pending_runs',
        'last_alert_at',
      ])
      .where('workspace_id', '=', workspaceId)
      .where('enabled', '=', true)
      .forUpdate()
      .execute();
    let sent = 0;
    for (const rule of rules as RuleRow[]) {
      const condition = rule.condition as AlertCondition;
      let held = { count: rule.pending_count, runs: rule.pending_runs };
      if (!isPeriodic(condition)) {
        const counted = events.filter((e) => ruleCounts(condition, e));
        held = {
          count: held.count + counted.length,
          runs: [...held.runs, ...counted.map((e) => e.runId)].slice(-ALERT_SAMPLE),
        };
        if (condition.kind === 'failure_count' && held.count > 0) {
          const inWindow = await failuresWithin(trx, workspaceId, condition, now);
          // Below the threshold nothing is held: the window decides, not old endings.
          held =
            inWindow >= condition.threshold ? { ...held, count: inWindow } : { count: 0, runs: [] };
        }
      } else if (options.periodic) {
        held = await periodicFinding(trx, deps, workspaceId, condition, now);
      }
      const allowed = nextAllowed(rule.last_alert_at, rule.throttle_minutes);
      if (held.count > 0 && (!allowed || allowed <= now)) {
        await sendAlert(trx, deps, workspaceId, rule, condition, held, now);
        sent++;
      } else {
        await trx
          .updateTable('alert_rules')
          .set({ pending_count: held.count, pending_runs: held.runs })
          .where('id', '=', rule.id)
          .execute();
        if (held.count > 0 && allowed) await scheduleEvaluation(trx, workspaceId, rule.id, allowed);
      }
    }
    return { sent };
  });
}

/** Failed, blocked or reconciled runs of the rule's types and tenants in its window (rollups). */
async function failuresWithin(
  db: Kysely<Database>,
  workspaceId: string,
  condition: Extract<AlertCondition, { kind: 'failure_count' }>,
  now: Date,
): Promise<number> {
  const { finished } = await endedSince(db, {
    workspaceId,
    tenants: condition.tenantIds?.length ? condition.tenantIds : ['*'],
    types: condition.types?.length ? condition.types : ['*'],
    from: new Date(
      Math.floor((now.getTime() - condition.windowMinutes * 60_000) / 60_000) * 60_000,
    ),
  });
  return finished.failed + finished.blocked + finished.reconciled;
}

/** What a clock rule finds now: the likely-stale runs, or the waits over the p95 threshold. */
async function periodicFinding(
  db: Kysely<Database>,
  deps: AlertDeps,
  workspaceId: string,
  condition: AlertCondition,
  now: Date,
): Promise<{ count: number; runs: string[] }> {
  if (condition.kind === 'likely_stale') {
    const judge = await judgeAt(db, deps.policyOf, now);
    const filter = { visibility: seeScopes([{ workspaceId, tenantIds: null }]), from: new Date(0) };
    const stale = await db
      .selectFrom('operation_runs')
      .select('id')
      .where(inBucket(filter, 'active_stale', judge))
      .orderBy('created_at', 'desc')
      .limit(1_000)
      .execute();
    return { count: stale.length, runs: stale.slice(0, ALERT_SAMPLE).map((r) => r.id) };
  }
  if (condition.kind === 'queue_wait') {
    const { wait } = await endedSince(db, {
      workspaceId,
      tenants: ['*'],
      types: condition.types?.length ? condition.types : ['*'],
      from: new Date(now.getTime() - condition.forMinutes * 60_000),
    });
    const p95 = percentileOf(wait, 95);
    const waits = wait.reduce((a, b) => a + b, 0);
    return { count: p95 !== null && p95 > condition.p95Seconds ? waits : 0, runs: [] };
  }
  return { count: 0, runs: [] };
}

async function sendAlert(
  trx: Transaction<Database>,
  deps: AlertDeps,
  workspaceId: string,
  rule: RuleRow,
  condition: AlertCondition,
  held: { count: number; runs: string[] },
  now: Date,
) {
  const payload = await alertPayload(trx, deps, workspaceId, rule, condition, held, now);
  await recordDelivery(trx, { ruleId: rule.id, workspaceId, payload, test: false });
  await trx
    .updateTable('alert_rules')
    .set({ pending_count: 0, pending_runs: [], last_alert_at: now })
    .where('id', '=', rule.id)
    .execute();
}

/** The alert as sent: the rule, the workspace, the count, and the runs it names with links. */
export async function alertPayload(
  db: Kysely<Database>,
  deps: Pick<AlertDeps, 'publicUrl'>,
  workspaceId: string,
  rule: { id: string; name: string },
  condition: AlertCondition,
  held: { count: number; runs: string[] },
  now: Date,
): Promise<AlertPayload> {
  const workspace = await db
    .selectFrom('workspaces')
    .select(['id', 'slug', 'name'])
    .where('id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  const runs = held.runs.length
    ? await db
        .selectFrom('operation_runs')
        .leftJoin('tenants', 'tenants.id', 'operation_runs.tenant_id')
        .select([
          'operation_runs.id',
          'operation_runs.type',
          'operation_runs.outcome',
          'operation_runs.reconciliation',
          'tenants.slug as tenant',
        ])
        .where('operation_runs.id', 'in', held.runs)
        .where('operation_runs.workspace_id', '=', workspaceId)
        .orderBy('operation_runs.id', 'desc')
        .execute()
    : [];
  return {
    id: uuidv7(),
    rule: { id: rule.id, name: rule.name, condition: describeCondition(condition) },
    workspace,
    count: held.count,
    runs: runs.map((r) => ({
      id: r.id,
      type: r.type,
      tenant: r.tenant,
      outcome: endingOf({ outcome: r.outcome, reconciled: r.reconciliation !== null }),
      link: `${deps.publicUrl}/admin/operations/${r.id}`,
    })),
    at: now.toISOString(),
  };
}

/** A delivery row and the queue job that sends it, in the caller's transaction. */
export async function recordDelivery(
  db: Kysely<Database>,
  delivery: { ruleId: string; workspaceId: string; payload: AlertPayload; test: boolean },
): Promise<string> {
  await db
    .insertInto('alert_deliveries')
    .values({
      id: delivery.payload.id,
      rule_id: delivery.ruleId,
      workspace_id: delivery.workspaceId,
      test: delivery.test,
      count: delivery.payload.count,
      payload: JSON.stringify(delivery.payload),
    })
    .execute();
  await sql`select graphile_worker.add_job(
      identifier => ${DELIVER_TASK}::text,
      payload => json_build_object('deliveryId', ${delivery.payload.id}::text),
      max_attempts => 25,
      job_key => ${`runwarden:alert-delivery:${delivery.payload.id}`}::text)`.execute(db);
  return delivery.payload.id;
}

/**
 * Asks the queue to evaluate the workspace when a rule's throttle ends: a job of the rule's own
 * (the workspace's job is the runs' a few seconds after they end, and must not wait for this).
 */
async function scheduleEvaluation(
  db: Kysely<Database>,
  workspaceId: string,
  ruleId: string,
  at: Date,
) {
  await sql`select graphile_worker.add_job(
      identifier => ${EVALUATE_TASK}::text,
      payload => json_build_object('workspaceId', ${workspaceId}::text),
      run_at => ${at.toISOString()}::timestamptz,
      max_attempts => 25,
      job_key => ${`runwarden:alerts-throttled:${ruleId}`}::text,
      job_key_mode => 'replace')`.execute(db);
}

/** Every workspace with an enabled rule, evaluated with its clock rules (the minute's tick). */
export async function evaluateAll(deps: AlertDeps): Promise<{ sent: number }> {
  const workspaces = await deps.db
    .selectFrom('alert_rules')
    .select('workspace_id')
    .distinct()
    .where('enabled', '=', true)
    .execute();
  let sent = 0;
  for (const { workspace_id } of workspaces)
    sent += (await evaluateWorkspace(deps, workspace_id, { periodic: true })).sent;
  return { sent };
}
