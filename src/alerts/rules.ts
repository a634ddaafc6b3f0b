import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AlertCondition, AlertDestination } from '../domain/alert-rules.js';
import { RunwardenError } from '../domain/errors.js';
import { uuidv7 } from '../domain/uuid.js';
import { type AuditEntry, recordAudit } from '../runs/audit.js';

/** Rules a workspace may have at once. */
export const MAX_RULES = 100;

/** Minutes between two alerts of one rule unless it says otherwise (DESIGN §18). */
export const DEFAULT_THROTTLE_MINUTES = 10;

export interface AlertRule {
  id: string;
  workspaceId: string;
  name: string;
  condition: AlertCondition;
  /** As shown: a Slack URL, itself a credential, only as its host. */
  destination: AlertDestination;
  throttleMinutes: number;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastAlertAt: Date | null;
  pendingCount: number;
}

export interface RuleSpec {
  name: string;
  condition: AlertCondition;
  destination: AlertDestination;
  throttleMinutes?: number;
  enabled?: boolean;
}

type Actor = AuditEntry['actor'];

/** The destination as stored (the Slack URL lives in `secret`) and the secret to show once. */
function stored(destination: AlertDestination): {
  destination: AlertDestination | { kind: 'slack'; host: string };
  secret: string | null;
  shown: string | null;
} {
  if (destination.kind === 'webhook') {
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    return { destination, secret, shown: secret };
  }
  if (destination.kind === 'slack')
    return {
      destination: { kind: 'slack', host: new URL(destination.url).host },
      secret: destination.url,
      shown: null,
    };
  return { destination, secret: null, shown: null };
}

export function ruleOf(row: {
  id: string;
  workspace_id: string;
  name: string;
  condition: unknown;
  destination: unknown;
  throttle_minutes: number;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  last_alert_at: Date | null;
  pending_count: number;
}): AlertRule {
  const destination = row.destination as AlertDestination | { kind: 'slack'; host: string };
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    condition: row.condition as AlertCondition,
    destination:
      destination.kind === 'slack' && 'host' in destination
        ? { kind: 'slack', url: `https://${destination.host}/…` }
        : (destination as AlertDestination),
    throttleMinutes: row.throttle_minutes,
    enabled: row.enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastAlertAt: row.last_alert_at,
    pendingCount: row.pending_count,
  };
}

/**
 * The only writer of alert rules (DESIGN §18): each change audited. A webhook's signing secret is
 * made here and returned once (`secret`); a Slack URL is kept as a secret and shown by its host.
 */
export function alertRules(db: Kysely<Database>) {
  const columns = [
    'id',
    'workspace_id',
    'name',
    'condition',
    'destination',
    'throttle_minutes',
    'enabled',
    'created_at',
    'updated_at',
    'last_alert_at',
    'pending_count',
  ] as const;
  return {
    async list(workspaceId: string): Promise<AlertRule[]> {
      const rows = await db
        .selectFrom('alert_rules')
        .select(columns)
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at')
        .execute();
      return rows.map(ruleOf);
    },

    async get(workspaceId: string, id: string): Promise<AlertRule | undefined> {
      const row = await db
        .selectFrom('alert_rules')
        .select(columns)
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && ruleOf(row);
    },

    async create(
      workspaceId: string,
      spec: RuleSpec,
      actor: Actor,
    ): Promise<{ rule: AlertRule; secret: string | null }> {
      const keep = stored(spec.destination);
      const row = await db.transaction().execute(async (trx) => {
        // Counted under the workspace's row lock, so two creates cannot both pass at 99.
        await trx
          .selectFrom('workspaces')
          .select('id')
          .where('id', '=', workspaceId)
          .forUpdate()
          .execute();
        const { n } = await trx
          .selectFrom('alert_rules')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirstOrThrow();
        if (Number(n) >= MAX_RULES)
          throw new RunwardenError(
            'conflict',
            `A workspace has at most ${MAX_RULES} alert rules: remove one first.`,
          );
        const inserted = await trx
          .insertInto('alert_rules')
          .values({
            id: uuidv7(),
            workspace_id: workspaceId,
            name: spec.name,
            condition: JSON.stringify(spec.condition),
            destination: JSON.stringify(keep.destination),
            secret: keep.secret,
            throttle_minutes: spec.throttleMinutes ?? DEFAULT_THROTTLE_MINUTES,
            enabled: spec.enabled ?? true,
            created_by: actor.userId,
          })
          .returning(columns)
          .executeTakeFirstOrThrow();
        await recordAudit(trx, {
          actor,
          action: 'alert_rule.create',
          workspaceId,
          target: { type: 'alert_rule', id: inserted.id },
          details: {
            name: spec.name,
            condition: spec.condition.kind,
            destination: spec.destination.kind,
          },
        });
        return inserted;
      });
      return { rule: ruleOf(row), secret: keep.shown };
    },

    /** Replaces a rule; a new destination gets a new secret (returned once), else it keeps its own. */
    async update(
      workspaceId: string,
      id: string,
      spec: RuleSpec,
      actor: Actor,
      options: { newDestination: boolean },
    ): Promise<{ rule: AlertRule; secret: string | null } | undefined> {
      const keep = options.newDestination ? stored(spec.destination) : undefined;
      return await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('alert_rules')
          .set({
            name: spec.name,
            condition: JSON.stringify(spec.condition),
            ...(keep ? { destination: JSON.stringify(keep.destination), secret: keep.secret } : {}),
            throttle_minutes: spec.throttleMinutes ?? DEFAULT_THROTTLE_MINUTES,
            enabled: spec.enabled ?? true,
            updated_at: new Date(),
          })
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', id)
          .returning(columns)
          .executeTakeFirst();
        if (!updated) return undefined;
        await recordAudit(trx, {
          actor,
          action: 'alert_rule.update',
          workspaceId,
          target: { type: 'alert_rule', id },
          details: { name: spec.name, newDestination: options.newDestination },
        });
        return { rule: ruleOf(updated), secret: keep?.shown ?? null };
      });
    },

    async remove(workspaceId: string, id: string, actor: Actor): Promise<boolean> {
      return await db.transaction().execute(async (trx) => {
        const gone = await trx
          .deleteFrom('alert_rules')
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', id)
          .executeTakeFirst();
        if (!gone.numDeletedRows) return false;
        await recordAudit(trx, {
          actor,
          action: 'alert_rule.delete',
          workspaceId,
          target: { type: 'alert_rule', id },
        });
        return true;
      });
    },
  };
}

export type AlertRules = ReturnType<typeof alertRules>;
