import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize, notFound } from '../../access/authorize.js';
import type { Principal } from '../../access/principal.js';
import { alertPayload, recordDelivery } from '../../alerts/evaluate.js';
import { type AlertRule, alertRules, type RuleSpec } from '../../alerts/rules.js';
import {
  ALERT_ENDINGS,
  type AlertDestination,
  describeCondition,
} from '../../domain/alert-rules.js';
import { RunwardenError } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../openapi.js';
import { actorOf, NoContent, WsParam } from './directory-access.js';

const CAPABILITY = 'workspace.manage';
const Types = z.array(z.string().min(1).max(200)).max(50).optional();
const TenantIds = z.array(z.uuid()).max(100).optional();
const Minutes = z.number().int().min(1).max(1440);

const Condition = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('run_ended'),
    outcomes: z.array(z.enum(ALERT_ENDINGS)).min(1).max(3),
    types: Types,
    tenantIds: TenantIds,
  }),
  z.strictObject({
    kind: z.literal('failure_count'),
    threshold: z.number().int().min(1).max(1_000_000),
    windowMinutes: Minutes,
    types: Types,
    tenantIds: TenantIds,
  }),
  z.strictObject({
    kind: z.literal('queue_wait'),
    p95Seconds: z.number().positive().max(86_400),
    forMinutes: Minutes,
    types: Types,
  }),
  z.strictObject({ kind: z.literal('likely_stale') }),
]);
const HttpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('http or https; delivered only to public addresses');
const Destination = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('webhook'), url: HttpUrl }),
  z.strictObject({ kind: z.literal('slack'), url: HttpUrl }),
  z.strictObject({ kind: z.literal('email'), to: z.array(z.email()).min(1).max(20) }),
]);
const RuleBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  condition: Condition,
  destination: Destination,
  throttleMinutes: Minutes.optional().describe('At most one alert per this many minutes (10)'),
  enabled: z.boolean().optional(),
});
const RuleView = z.object({
  id: z.string(),
  name: z.string(),
  condition: Condition,
  /** The condition in words, as alerts say it. */
  description: z.string(),
  destination: z.union([
    z.object({ kind: z.literal('webhook'), url: z.string() }),
    z.object({
      kind: z.literal('slack'),
      url: z.string().describe('Only its host: the URL is a secret'),
    }),
    z.object({ kind: z.literal('email'), to: z.array(z.string()) }),
  ]),
  throttleMinutes: z.number(),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastAlertAt: z.string().nullable(),
  /** What the rule holds back until its throttle ends. */
  pendingCount: z.number(),
});
const Created = z.object({
  rule: RuleView,
  secret: z
    .string()
    .nullable()
    .describe("A webhook's signing secret, shown this once (null for other destinations)"),
});
const DeliveryView = z.object({
  id: z.string(),
  createdAt: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  test: z.boolean(),
  count: z.number(),
});
const RuleParams = WsParam.extend({ id: z.uuid() });

function ruleView(rule: AlertRule) {
  return {
    ...rule,
    description: describeCondition(rule.condition),
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
    lastAlertAt: rule.lastAlertAt?.toISOString() ?? null,
  };
}

/** A workspace's alert rules and their deliveries (DESIGN §11, §18): its owners', for all its tenants. */
export const alertRuleRoutes: FastifyPluginAsyncZod<ApiContext & { publicUrl?: string }> = async (
  app,
  ctx,
) => {
  const rules = alertRules(ctx.db);

  function owner(principal: Principal | undefined, ws: string) {
    const allowed = authorize(principal, { kind: 'workspace', ref: ws }, CAPABILITY);
    if (allowed.access.restrictedTo !== null)
      throw new RunwardenError(
        'forbidden',
        'Alert rules watch the whole workspace: only members of every tenant manage them.',
        { details: { capability: CAPABILITY } },
      );
    return allowed;
  }

  /** The rule's tenants are this workspace's (a 400 naming the others). */
  function checkTenants(spec: RuleSpec, tenants: ReadonlyArray<{ id: string }>) {
    const ids = 'tenantIds' in spec.condition ? (spec.condition.tenantIds ?? []) : [];
    const unknown = ids.filter((id) => !tenants.some((t) => t.id === id));
    if (unknown.length)
      throw new RunwardenError(
        'validation_failed',
        'condition.tenantIds: tenants of this workspace only',
        {
          details: { unknown },
        },
      );
  }

  app.get(
    '/api/workspaces/:ws/alert-rules',
    {
      schema: {
        tags: ['alerts'],
        summary: "The workspace's alert rules (workspace.manage)",
        operationId: 'listAlertRules',
        params: WsParam,
        response: { 200: z.object({ items: z.array(RuleView) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { access } = owner(request.principal, request.params.ws);
      return { items: (await rules.list(access.id)).map(ruleView) };
    },
  );

  app.post(
    '/api/workspaces/:ws/alert-rules',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Add an alert rule (workspace.manage); a webhook’s signing secret is shown once',
        operationId: 'createAlertRule',
        params: WsParam,
        body: RuleBody,
        response: { 201: Created, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { principal, access } = owner(request.principal, request.params.ws);
      checkTenants(request.body, access.tenants);
      const made = await rules.create(access.id, request.body, actorOf(principal));
      return reply.status(201).send({ rule: ruleView(made.rule), secret: made.secret });
    },
  );

  app.put(
    '/api/workspaces/:ws/alert-rules/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Replace an alert rule; a new destination gets a new secret, shown once',
        operationId: 'updateAlertRule',
        params: RuleParams,
        body: RuleBody,
        response: { 200: Created, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const { principal, access } = owner(request.principal, request.params.ws);
      checkTenants(request.body, access.tenants);
      const before = await rules.get(access.id, request.params.id);
      if (!before) throw notFound('alert rule');
      const updated = await rules.update(access.id, before.id, request.body, actorOf(principal), {
        newDestination: !sameDestination(before.destination, request.body.destination),
      });
      if (!updated) throw notFound('alert rule');
      return { rule: ruleView(updated.rule), secret: updated.secret };
    },
  );

  app.delete(
    '/api/workspaces/:ws/alert-rules/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Remove an alert rule and its deliveries',
        operationId: 'deleteAlertRule',
        params: RuleParams,
        response: { 204: NoContent, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { principal, access } = owner(request.principal, request.params.ws);
      if (!(await rules.remove(access.id, request.params.id, actorOf(principal))))
        throw notFound('alert rule');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/workspaces/:ws/alert-rules/:id/deliveries',
    {
      schema: {
        tags: ['alerts'],
        summary: "A rule's last 100 deliveries, newest first: status, attempts, last error",
        operationId: 'listAlertDeliveries',
        params: RuleParams,
        response: { 200: z.object({ items: z.array(DeliveryView) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { access } = owner(request.principal, request.params.ws);
      if (!(await rules.get(access.id, request.params.id))) throw notFound('alert rule');
      const rows = await ctx.db
        .selectFrom('alert_deliveries')
        .select([
          'id',
          'created_at',
          'status',
          'attempts',
          'last_error',
          'last_attempt_at',
          'delivered_at',
          'test',
          'count',
        ])
        .where('rule_id', '=', request.params.id)
        .where('workspace_id', '=', access.id)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return {
        items: rows.map((r) => ({
          id: r.id,
          createdAt: r.created_at.toISOString(),
          status: r.status,
          attempts: r.attempts,
          lastError: r.last_error,
          lastAttemptAt: r.last_attempt_at?.toISOString() ?? null,
          deliveredAt: r.delivered_at?.toISOString() ?? null,
          test: r.test,
          count: r.count,
        })),
      };
    },
  );

  app.post(
    '/api/workspaces/:ws/alert-rules/:id/test',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Send a test alert to the rule’s destination now (through the queue, recorded)',
        operationId: 'testAlertRule',
        params: RuleParams,
        response: {
          202: z.object({ delivery: z.object({ id: z.string() }) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      const { access } = owner(request.principal, request.params.ws);
      const rule = await rules.get(access.id, request.params.id);
      if (!rule) throw notFound('alert rule');
      const publicUrl = ctx.publicUrl ?? `${request.protocol}://${request.host}`;
      const id = await ctx.db.transaction().execute(async (trx) => {
        const payload = await alertPayload(
          trx,
          { publicUrl },
          access.id,
          rule,
          rule.condition,
          { count: 1, runs: [] },
          ctx.now(),
        );
        return await recordDelivery(trx, {
          ruleId: rule.id,
          workspaceId: access.id,
          payload: { ...payload, test: true },
          test: true,
        });
      });
      return reply.status(202).send({ delivery: { id } });
    },
  );
};

/** Whether a PUT keeps the destination (a Slack URL is compared by what is shown of it). */
function sameDestination(before: AlertDestination, after: AlertDestination): boolean {
  if (before.kind !== after.kind) return false;
  if (before.kind === 'email' && after.kind === 'email')
    return before.to.join(',') === after.to.join(',');
  if (before.kind === 'slack' && after.kind === 'slack') return before.url === after.url;
  return before.kind === 'webhook' && after.kind === 'webhook' && before.url === after.url;
}
