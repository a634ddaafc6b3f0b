import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { SummaryCounts } from '../domain/counts.js';
import type {
  Reconciliation,
  RunEventKind,
  RunFailure,
  RunOutcome,
  RunStatus,
} from '../domain/run.js';
import type { LogLevel } from '../domain/run-log-lines.js';

/** timestamptz: read as Date, written as Date (or an ISO string in raw SQL). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/** jsonb written as JSON text (pg would turn a JS array into a PostgreSQL array). */
type DefaultedJson<T> = ColumnType<T, string | undefined, string>;

export type TenantStatus = 'active' | 'inactive';
export type Role = 'owner' | 'manager' | 'operator' | 'readonly';
/** `person`: acts for its creator while they are a member; `service`: acts for the workspace. */
export type TokenKind = 'person' | 'service';

export interface WorkspacesTable {
  id: string;
  slug: string;
  name: string;
  created_at: DefaultedTimestamp;
}

export interface TenantsTable {
  id: string;
  workspace_id: string;
  slug: string;
  name: string;
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>;
  created_at: DefaultedTimestamp;
  /** Its share of flow-controlled execution against other tenants' (DESIGN §17), 1–1000. */
  weight: ColumnType<number, number | undefined, number>;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  /** scrypt hash in `scrypt$N$r$p$salt$hash` form; null for accounts that cannot log in. */
  password_hash: string | null;
  /** System-plane capabilities (`system.ops.view`, `system.ops.triage`). */
  platform_capabilities: ColumnType<string[], string[] | undefined, string[]>;
  created_at: DefaultedTimestamp;
  /** The host platform's own key for this person (DESIGN §10), unique when set. */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set by the directory's disableUser: no login, no sessions, no live tokens. */
  disabled_at: NullableTimestamp;
  /** The OpenID provider identity this account is linked to at its first SSO sign-in. */
  oidc_issuer: ColumnType<string | null, string | null | undefined, string | null>;
  oidc_subject: ColumnType<string | null, string | null | undefined, string | null>;
  /** How the password was set: an SSO sign-in revokes one someone else may know (DESIGN §10). */
  password_origin: ColumnType<
    PasswordOrigin | null,
    PasswordOrigin | null | undefined,
    PasswordOrigin | null
  >;
}

/**
 * 'invite': whoever held a set-password link the platform's directory issued; 'offer': whoever held
 * a workspace owner's offer link (maybe that owner), trusted only for that offer; 'admin': the
 * operator; 'self': its linked owner.
 */
export type PasswordOrigin = 'invite' | 'self' | 'admin' | 'offer';

/** A one-time set-password token (DESIGN §11), stored only as its sha256. */
export interface InvitesTable {
  token_hash: string;
  user_id: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface MembershipsTable {
  id: string;
  workspace_id: string;
  user_id: string;
  role: Role;
  /** null: every tenant of the workspace; otherwise only these tenants. */
  tenant_ids: string[] | null;
  created_at: DefaultedTimestamp;
}

/** A membership a workspace owner offered, granting nothing until accepted (DESIGN §10). */
export interface PendingMembershipsTable {
  id: string;
  workspace_id: string;
  /** Lower-cased, as the owner typed it. */
  email: string;
  /** The name the owner gave: names the account only if accepting creates it. */
  name: string | null;
  role: Role;
  tenant_ids: string[] | null;
  token_hash: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
}

export interface OperationRunsTable {
  /** uuid v7, time-ordered; the canonical id in every link. */
  id: string;
  workspace_id: string;
  /** null for workspace-level operations. */
  tenant_id: string | null;
  /** Registered operation type, e.g. `inventory.sync`. */
  type: string;
  status: ColumnType<RunStatus, RunStatus | undefined, RunStatus>;
  /** `pending` until completed. */
  outcome: ColumnType<RunOutcome, RunOutcome | undefined, RunOutcome>;
  /** sha256 of {type, workspace, tenant, identity inputs}; decides reuse while active. */
  identity_hash: string;
  input: DefaultedJson<Record<string, unknown>>;
  /** null for system and scheduled runs. */
  initiator_user_id: string | null;
  /** The service token that started it (then no person did); null otherwise. */
  initiator_token_id: ColumnType<string | null, string | null | undefined, string | null>;
  summary_counts: DefaultedJson<SummaryCounts>;
  progress_processed: number | null;
  progress_total: number | null;
  /** Sanitized `{code, message}` entries, oldest first. */
  failures: DefaultedJson<RunFailure[]>;
  /** Related links and domain references (e.g. `restoreRunId`). */
  context: DefaultedJson<Record<string, unknown>>;
  /** Attempts started so far. */
  attempt: Generated<number>;
  /** The worker process running it; null unless running. */
  worker_id: string | null;
  /** graphile-worker job id (bigint, read as a string). */
  queue_job_id: string | null;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  last_heartbeat_at: NullableTimestamp;
  updated_at: Timestamp;
  /** Set only when the reconciler (or an adapter) force-completed the run. */
  reconciliation: ColumnType<Reconciliation | null, string | null | undefined, string | null>;
  cancel_requested_at: NullableTimestamp;
  /** The run this one retries (system-plane triage). */
  retry_of: string | null;
  /** Set when platform staff marked a terminal run reviewed (system-plane triage). */
  reviewed_at: NullableTimestamp;
  reviewed_by: string | null;
  /** Generated: `reconciliation is not null` (indexed for summaries). */
  reconciled: ColumnType<boolean, never, never>;
  /** Waiting for admission (DESIGN §17): queued with no queue job until a limit, pause or `runAt` lets it go. */
  held: ColumnType<boolean, boolean | undefined, boolean>;
  /** When the flow admitted it (its queued-stale window counts from here); null unless admitted. */
  eligible_at: NullableTimestamp;
  /** -1 high, 0 normal, 1 low: lower goes first (graphile-worker's order too). */
  priority: ColumnType<number, number | undefined, number>;
  /** Requested start (`runAt` / `delaySeconds`); null: as soon as it may. */
  run_at: NullableTimestamp;
  /** A queued run past it ends cancelled with `run.expired`. */
  expires_at: NullableTimestamp;
  /** A fleet's parent run (DESIGN §19): its status and counts follow its children. */
  fleet: ColumnType<boolean, boolean | undefined, boolean>;
  /** A child of one or more fleets (started or joined): its end moves its parents. */
  in_fleet: ColumnType<boolean, boolean | undefined, boolean>;
  /** The fleet that started this run (null for a run no fleet started, even if one joined it). */
  parent_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Given at start (DESIGN §18): at most 10, each at most 64 characters. */
  tags: ColumnType<string[], string[] | undefined, string[]>;
  /** The run this one runs again, perhaps with edited input (DESIGN §18). */
  rerun_of: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Every child of a fleet, started or joined (DESIGN §19). */
export interface FleetChildrenTable {
  parent_id: string;
  run_id: string;
  tenant_id: string;
  /** The tenant's identical run was already active: it joined this fleet. */
  reused: boolean;
  /** The child's outcome once its parent counted it; null until then. */
  outcome: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SessionsTable {
  sid: string;
  user_id: string | null;
  data: ColumnType<Record<string, unknown>, string, string>;
  expires_at: Timestamp;
}

/** One login-throttle counter (see src/access/login-throttle.ts). */
export interface LoginThrottleTable {
  /** sha256 of the rule and its subject (a client address or a lower-cased email). */
  key: string;
  attempts: number;
  /** The end of the counter's window. */
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: string;
  workspace_id: string;
  name: string;
  role: Role;
  /** sha256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  /** The person it acts for; null for a service token (it acts for the workspace). */
  created_by: string | null;
  kind: ColumnType<TokenKind, TokenKind | undefined, TokenKind>;
  created_at: DefaultedTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface RunEventsTable {
  id: Generated<string>;
  run_id: string;
  kind: RunEventKind;
  at: Timestamp;
  payload: DefaultedJson<Record<string, unknown>>;
}

/** One run's log so far (DESIGN §18): the last seq handed out and what the cap has counted. */
export interface RunLogsTable {
  run_id: string;
  last_seq: ColumnType<number, number | undefined, number>;
  /** Lines kept (the "dropped" line not counted). */
  lines: ColumnType<number, number | undefined, number>;
  /** UTF-8 bytes of the kept lines' messages and fields. */
  bytes: ColumnType<number, number | undefined, number>;
  /** Lines the cap dropped; the run's one "N lines dropped" line is at `dropped_seq`. */
  dropped: ColumnType<string, string | number | undefined, string | number>;
  dropped_seq: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A line a run's handler (or an external run's reporter) logged. */
export interface RunLogLinesTable {
  run_id: string;
  seq: number;
  attempt: number;
  at: Timestamp;
  level: LogLevel;
  message: string;
  /** jsonb written as JSON text. */
  fields: ColumnType<Record<string, unknown> | null, string | null, string | null>;
}

export interface WorkersTable {
  /** Runwarden worker process id (host:pid:random). */
  id: string;
  host: string;
  pid: number;
  /** The graphile-worker ids this process runs under, for `forceUnlockWorkers`. */
  queue_worker_ids: ColumnType<string[], string[] | undefined, string[]>;
  started_at: Timestamp;
  last_seen_at: Timestamp;
  stopped_at: NullableTimestamp;
  /** Job slots the process was started with (`--concurrency`). */
  concurrency: ColumnType<number, number | undefined, number>;
  /** Job slots alive right now; below `concurrency` while the queue's slots are being restored. */
  live_slots: ColumnType<number, number | undefined, number>;
  /** How often the process beats, ms: it is dead after 3 of them unseen. Null: started before 0016. */
  heartbeat_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** The package version the process runs (`src/version.ts`). Null: started before 0021. */
  version: ColumnType<string | null, string | null | undefined, string | null>;
  /** The operation types the process serves (its queue operations). Empty before 0021. */
  types: ColumnType<string[], string[] | undefined, string[]>;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  run_id: string;
  title: string;
  body: string;
  link: string;
  created_at: Timestamp;
  read_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  actor_user_id: string | null;
  /** `user`, `token` or `system`. */
  actor_kind: string;
  action: string;
  workspace_id: string | null;
  target_type: string | null;
  target_id: string | null;
  details: DefaultedJson<Record<string, unknown>>;
}

/** Terminal runs retention deleted, summed so `/metrics` counters never go down (migration 0010). */
export interface RunCompletionTotalsTable {
  type: string;
  outcome: string;
  reconciled: boolean;
  runs: ColumnType<string, string | number, string | number>;
  timed_runs: ColumnType<string, string | number, string | number>;
  duration_seconds: number;
  buckets: string[];
}

/** A run that ended, waiting for the fold into `run_rollups` (migration 0024; written by a trigger). */
export interface RunRollupInboxTable {
  seq: ColumnType<string, never, never>;
  workspace_id: string;
  /** The tenant's id, '' for a workspace-level run. */
  tenant: string;
  type: string;
  /** A fleet's child (left out of the all-tenant rows). */
  child: boolean;
  outcome: string;
  reconciled: boolean;
  completed_at: Timestamp;
  wait_bin: number | null;
  duration_bin: number | null;
}

/** Runs ended per minute (or hour, after 2 days) × workspace × tenant × type (DESIGN §18). */
export interface RunRollupsTable {
  workspace_id: string;
  /** A tenant's id, '' for workspace-level runs, '*' for all of them (fleet children left out). */
  tenant: string;
  /** A type, or '*' for all of them. */
  type: string;
  at: Timestamp;
  minutes: number;
  succeeded: number;
  partially_succeeded: number;
  failed: number;
  blocked: number;
  cancelled: number;
  /** Reconciled runs, whatever their outcome (counted apart, not under it). */
  reconciled: number;
  waits: number;
  wait_hist: number[];
  durations: number;
  duration_hist: number[];
}

/** An alert rule of a workspace (DESIGN §18; src/alerts/rules.ts is its only writer). */
export interface AlertRulesTable {
  id: string;
  workspace_id: string;
  name: string;
  condition: ColumnType<unknown, string, string>;
  destination: ColumnType<unknown, string, string>;
  /** A webhook's signing secret or a Slack URL: never read back out to anyone. */
  secret: string | null;
  throttle_minutes: number;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  pending_count: ColumnType<number, number | undefined, number>;
  pending_runs: ColumnType<string[], string[] | undefined, string[]>;
  last_alert_at: NullableTimestamp;
}

/** A run that ended failed, blocked or reconciled, waiting for its workspace's evaluation. */
export interface AlertEventsTable {
  seq: ColumnType<string, never, never>;
  workspace_id: string;
  run_id: string;
  type: string;
  tenant_id: string | null;
  outcome: string;
  reconciled: boolean;
  completed_at: Timestamp;
}

/** One alert sent (or being sent) to a rule's destination. */
export interface AlertDeliveriesTable {
  id: string;
  rule_id: string;
  workspace_id: string;
  created_at: DefaultedTimestamp;
  status: ColumnType<
    'pending' | 'delivered' | 'failed',
    'pending' | undefined,
    'pending' | 'delivered' | 'failed'
  >;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  last_attempt_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
  test: ColumnType<boolean, boolean | undefined, boolean>;
  count: number;
  payload: ColumnType<unknown, string, string>;
}

export interface Database {
  workspaces: WorkspacesTable;
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  operation_runs: OperationRunsTable;
  fleet_children: FleetChildrenTable;
  run_completion_totals: RunCompletionTotalsTable;
  run_rollup_inbox: RunRollupInboxTable;
  run_rollups: RunRollupsTable;
  alert_rules: AlertRulesTable;
  alert_events: AlertEventsTable;
  alert_deliveries: AlertDeliveriesTable;
  run_events: RunEventsTable;
  run_logs: RunLogsTable;
  run_log_lines: RunLogLinesTable;
  workers: WorkersTable;
  flow_lanes: FlowLanesTable;
  flow_shares: FlowSharesTable;
  flow_clock: FlowClockTable;
  flow_pauses: FlowPausesTable;
  flow_limit_overrides: FlowLimitOverridesTable;
  notifications: NotificationsTable;
  audit_log: AuditLogTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  api_tokens: ApiTokensTable;
  settings: SettingsTable;
  invites: InvitesTable;
  pending_memberships: PendingMembershipsTable;
}

export type RunRow = Selectable<OperationRunsTable>;
/**
 * Every column of a run by name, for statements that return whole runs: a prepared statement's
 * result must not change shape when a later migration adds a column (a rolling deploy).
 */
export const RUN_COLUMNS = [
  'id',
  'workspace_id',
  'tenant_id',
  'type',
  'status',
  'outcome',
  'identity_hash',
  'input',
  'initiator_user_id',
  'initiator_token_id',
  'summary_counts',
  'progress_processed',
  'progress_total',
  'failures',
  'context',
  'attempt',
  'worker_id',
  'queue_job_id',
  'created_at',
  'started_at',
  'completed_at',
  'last_heartbeat_at',
  'updated_at',
  'reconciliation',
  'cancel_requested_at',
  'retry_of',
  'reviewed_at',
  'reviewed_by',
  'reconciled',
  'held',
  'eligible_at',
  'priority',
  'run_at',
  'expires_at',
  'fleet',
  'in_fleet',
  'parent_id',
  'tags',
  'rerun_of',
] as const satisfies readonly (keyof RunRow)[];
/** Fails to compile when RunRow gains a column RUN_COLUMNS does not name. */
export type RunColumnsComplete =
  Exclude<keyof RunRow, (typeof RUN_COLUMNS)[number]> extends never ? true : never;
export const runColumnsComplete: RunColumnsComplete = true;
export type NewRunRow = Insertable<OperationRunsTable>;
export type RunUpdate = Updateable<OperationRunsTable>;
export type RunEventRow = Selectable<RunEventsTable>;
export type WorkspaceRow = Selectable<WorkspacesTable>;
export type TenantRow = Selectable<TenantsTable>;
export type UserRow = Selectable<UsersTable>;
export type MembershipRow = Selectable<MembershipsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type NotificationRow = Selectable<NotificationsTable>;

/** A (type, tenant key, priority) lane that may hold runs (DESIGN §17); the admitter visits these. */
export interface FlowLanesTable {
  type: string;
  /** The tenant's id, or the workspace's for a workspace-level run. */
  tenant_key: string;
  priority: number;
  workspace_id: string;
  /** False once the admitter found it empty. */
  active: ColumnType<boolean, boolean | undefined, boolean>;
  /** Why the lane waited at the last admission pass (the waiting copy). */
  verdict: ColumnType<unknown | null, string | null | undefined, string | null>;
  verdict_at: NullableTimestamp;
}

export interface FlowSharesTable {
  tenant_key: string;
  /** Virtual time: grows by 1/weight with each admitted run. */
  vtime: ColumnType<number, number | undefined, number>;
}

export interface FlowClockTable {
  id: ColumnType<boolean, boolean | undefined, never>;
  vtime: ColumnType<number, number | undefined, number>;
}

export interface FlowPausesTable {
  id: string;
  workspace_id: string;
  type: string | null;
  tenant_id: string | null;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface FlowLimitOverridesTable {
  /** A type's or a pool's name. */
  name: string;
  limits: ColumnType<unknown, string, string>;
  updated_by: string | null;
  updated_at: DefaultedTimestamp;
}
