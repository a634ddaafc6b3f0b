import { z } from 'zod';
import { ROLES } from '../domain/capabilities.js';
import { WAITING_KINDS } from '../domain/waiting.js';

// The API's response shapes (DESIGN §11). Only zod here: the web app imports these types too.

const Badge = z.object({
  label: z.string(),
  tone: z.enum(['neutral', 'info', 'success', 'warning', 'danger']),
});

export const TruthSchema = z.object({
  problemClass: z.enum(['none', 'active_stale', 'reconciled', 'terminal_follow_up']),
  bucket: z.enum([
    'active',
    'active_stale',
    'reconciled',
    'terminal_follow_up',
    'succeeded',
    'cancelled',
  ]),
  /** The class's one tone (src/domain/run-classes.ts `CLASS_TONE`): no two classes share one. */
  tone: z.enum(['info', 'caution', 'system', 'danger', 'success', 'neutral']),
  headline: z.string(),
  guidance: z.string(),
  badges: z.array(Badge),
  progress: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('none') }),
    z.object({ kind: z.literal('spinner') }),
    z.object({
      kind: z.literal('bar'),
      processed: z.number(),
      total: z.number(),
      percent: z.number(),
    }),
  ]),
  decision: z.object({ stillActive: z.string(), whatNext: z.string() }),
  /**
   * A silent run's deadline: it is marked failed `at` unless it reports; `copy` says so, `{time}`
   * standing for `at` in the reader's clock. Null when none is ahead.
   */
  deadline: z.object({ at: z.string(), copy: z.string() }).nullable(),
  /**
   * Why a queued run waits (DESIGN §17); null unless it is queued within its window. `at` is what
   * `{time}` in the headline stands for, in the reader's clock (a pause's start, a scheduled start).
   */
  waiting: z
    .object({
      kind: z.enum(WAITING_KINDS),
      at: z.string().nullable(),
    })
    .nullable()
    .optional(),
});

/** A run as every response carries it (DESIGN §11), with `truth` from `deriveTruth` only. */
export const RunViewSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  tenantId: z.string().nullable(),
  type: z.string(),
  typeLabel: z.string(),
  status: z.enum(['queued', 'running', 'completed']),
  outcome: z.enum([
    'pending',
    'succeeded',
    'partially_succeeded',
    'failed',
    'blocked',
    'cancelled',
  ]),
  identityHash: z.string(),
  /** Who started it: a person, or a service token (DESIGN §10); null for system runs. */
  initiator: z
    .object({ id: z.string(), name: z.string(), kind: z.enum(['person', 'service']) })
    .nullable(),
  summaryCounts: z.record(z.string(), z.number()),
  progress: z.object({ processed: z.number(), total: z.number().nullable() }).nullable(),
  failures: z.array(z.object({ code: z.string(), message: z.string() })),
  reconciliation: z.record(z.string(), z.unknown()).nullable(),
  attempt: z.number(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  lastHeartbeatAt: z.string().nullable(),
  cancelRequestedAt: z.string().nullable(),
  retryOf: z.string().nullable(),
  /** The run this one runs again, perhaps with edited input (DESIGN §18). */
  rerunOf: z.string().nullable(),
  /** Given at start, for search. */
  tags: z.array(z.string()),
  reviewedAt: z.string().nullable(),
  /** Flow control (DESIGN §17): its priority, when it may start, when it gives up waiting. */
  priority: z.enum(['high', 'normal', 'low']),
  runAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  /** Fleet operations (DESIGN §19): the fleet that started this run, if one did. */
  parentId: z.string().nullable(),
  /** A fleet's parent: its children, how many finished, and by outcome; null for any other run. */
  fleet: z
    .object({
      total: z.number(),
      finished: z.number(),
      byOutcome: z.record(z.string(), z.number()),
    })
    .nullable(),
  truth: TruthSchema,
  links: z.object({ view: z.string(), system: z.string() }),
});
export type RunView = z.infer<typeof RunViewSchema>;

export const RunDetailSchema = RunViewSchema.extend({
  workspace: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  tenant: z
    .object({ id: z.string(), slug: z.string(), name: z.string(), status: z.string() })
    .nullable(),
  /** `run_events`, oldest first. */
  timeline: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      /** What a person reads (src/domain/event-copy.ts), never the raw kind. */
      title: z.string(),
      detail: z.string().nullable(),
      at: z.string(),
      payload: z.record(z.string(), z.unknown()),
    }),
  ),
  /** For the collapsed diagnostics: raw queue facts, never shown as headlines. */
  diagnostics: z.object({
    queueJobId: z.string().nullable(),
    workerId: z.string().nullable(),
    input: z.record(z.string(), z.unknown()),
    context: z.record(z.string(), z.unknown()),
    lateCompletions: z.array(z.record(z.string(), z.unknown())),
  }),
});
export type RunDetail = z.infer<typeof RunDetailSchema>;

export const UserSchema = z.object({ id: z.string(), email: z.string(), name: z.string() });

export const MeSchema = z.object({
  user: UserSchema,
  csrfToken: z.string().nullable(),
  workspaces: z.array(
    z.object({
      id: z.string(),
      slug: z.string(),
      name: z.string(),
      role: z.string(),
      capabilities: z.array(z.string()),
      /** Restricted to some tenants: workspace-level runs are not theirs (DESIGN §10). */
      restricted: z.boolean(),
      tenants: z.array(
        z.object({ id: z.string(), slug: z.string(), name: z.string(), status: z.string() }),
      ),
    }),
  ),
  platform: z.object({ capabilities: z.array(z.string()) }),
});
export type Me = z.infer<typeof MeSchema>;

export const NotificationSchema = z.object({
  id: z.string(),
  runId: z.string(),
  title: z.string(),
  body: z.string(),
  link: z.string(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const OperationTypeSchema = z.object({
  type: z.string(),
  label: z.string(),
  scope: z.enum(['tenant', 'workspace']),
  execution: z.enum(['queue', 'external']),
  inputSchema: z.record(z.string(), z.unknown()),
  lifecycle: z.record(z.string(), z.unknown()),
});
export type OperationType = z.infer<typeof OperationTypeSchema>;

export const SummarySchema = z.object({
  activeFresh: z.number(),
  activeStale: z.number(),
  reconciled24h: z.number(),
  followUp7d: z.number(),
  succeeded7d: z.number(),
});
export type Summary = z.infer<typeof SummarySchema>;

// Directory and access management (DESIGN §11).
export const TenantSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'inactive']),
  /** Its share of flow-controlled execution against other tenants' (DESIGN §17), 1–1000. */
  weight: z.number(),
});
export type Tenant = z.infer<typeof TenantSchema>;

export const MemberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenantIds: z.array(z.string()).nullable(),
  disabled: z.boolean(),
  /** Offered by an owner, not yet accepted: it grants nothing; shows only what the owner typed. */
  pending: z.boolean(),
});
export type Member = z.infer<typeof MemberSchema>;

/** An API token as listed: never its secret. */
export const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  /** The person it acts for; null for a service token, which acts for the workspace. */
  createdBy: z.string().nullable(),
  kind: z.enum(['person', 'service']),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof TokenSchema>;

// Flow control (DESIGN §17).
/** A pause of a type, a tenant, both, or (neither) the whole workspace. */
export const PauseSchema = z.object({
  id: z.string(),
  type: z.string().nullable(),
  tenantId: z.string().nullable(),
  /** The person who paused; null for the CLI or a service token. */
  createdBy: z.string().nullable(),
  createdByName: z.string().nullable(),
  createdAt: z.string(),
});
export type Pause = z.infer<typeof PauseSchema>;

const RateSchema = z.object({ limit: z.number(), intervalSeconds: z.number() });
/** A type's or a pool's limits: every part optional. */
export const FlowLimitsSchema = z.object({
  concurrency: z
    .object({ perTenant: z.number().optional(), total: z.number().optional() })
    .optional(),
  rate: z.object({ perTenant: RateSchema.optional(), total: RateSchema.optional() }).optional(),
});

/** One limit of `GET /api/system/flow`, with the runs it counts now. */
export const FlowLimitViewSchema = z.object({
  name: z.string(),
  kind: z.enum(['type', 'pool']),
  /** The types whose runs count against it. */
  types: z.array(z.string()),
  /** In force: the override's, else the catalog's (null: no such limit). */
  concurrency: FlowLimitsSchema.shape.concurrency.unwrap().nullable(),
  rate: FlowLimitsSchema.shape.rate.unwrap().nullable(),
  /** The catalog's own limits. */
  declared: FlowLimitsSchema,
  /** Platform staff's override, or null. */
  override: FlowLimitsSchema.extend({
    updatedBy: z.string().nullable(),
    updatedAt: z.string(),
  }).nullable(),
  /** Admitted runs not finished (running, or queued for a worker). */
  running: z.number(),
  /** Runs of its types waiting for admission (a limit, a pause, or their runAt). */
  waiting: z.number(),
});
export type FlowLimitView = z.infer<typeof FlowLimitViewSchema>;

/** One worker process of `GET /api/system/workers` (DESIGN §18). */
export const WorkerViewSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  /** The release it runs (null: started before workers recorded it). */
  version: z.string().nullable(),
  /** The operation types it serves. */
  types: z.array(z.string()),
  /** Job slots it was started with, and those alive now. */
  concurrency: z.number(),
  liveSlots: z.number(),
  /** The runs it is executing: how many, and the first 50 with their system page. */
  running: z.object({
    count: z.number(),
    runs: z.array(z.object({ id: z.string(), type: z.string(), link: z.string() })),
  }),
  startedAt: z.string(),
  lastSeenAt: z.string(),
  stoppedAt: z.string().nullable(),
  /** How often it beats, ms (null: started before workers recorded it). */
  heartbeatMs: z.number().nullable(),
  /** alive: seen within 3 beats; silent: not since, not stopped; stopped: stopped or declared dead. */
  state: z.enum(['alive', 'silent', 'stopped']),
});
export type WorkerView = z.infer<typeof WorkerViewSchema>;

// Charts (DESIGN §11, §18).
export const CHART_RANGE_NAMES = ['1h', '24h', '7d', '30d'] as const;
const seconds = z.number().nullable();
/** One bar of a chart: the runs that ended in it and how long they waited and ran. */
export const ChartBucketSchema = z.object({
  /** The bar's start; it spans the chart's `step` minutes. */
  at: z.string(),
  /** Runs that ended in the bar by outcome; a reconciled run under `reconciled` only. */
  finished: z.object({
    succeeded: z.number(),
    partially_succeeded: z.number(),
    failed: z.number(),
    blocked: z.number(),
    cancelled: z.number(),
    reconciled: z.number(),
  }),
  /** (failed + blocked + reconciled) / all that ended; null when none did. */
  failureRate: z.number().nullable(),
  /** Queue wait in seconds (created, or its requested start, → started): p50 and p95. */
  waitP50: seconds,
  waitP95: seconds,
  /** Duration in seconds (started → ended): p50 and p95. */
  durationP50: seconds,
  durationP95: seconds,
});
export const ChartSchema = z.object({
  range: z.enum(CHART_RANGE_NAMES),
  /** Minutes per bar. */
  step: z.number(),
  from: z.string(),
  to: z.string(),
  buckets: z.array(ChartBucketSchema),
});
export type ChartView = z.infer<typeof ChartSchema>;
