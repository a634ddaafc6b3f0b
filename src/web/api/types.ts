// The API's own response types (src/http/schemas.ts), so the pages and the server cannot drift.

export type { ListBucket } from '../../domain/buckets';
export type {
  ApiToken,
  FlowLimitView,
  Me,
  Member,
  Notification,
  OperationType,
  Pause,
  RunDetail,
  RunView,
  Summary,
  Tenant,
} from '../../http/schemas';

export interface RunPage {
  items: import('../../http/schemas').RunView[];
  nextCursor: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { userId: string | null; kind: string; email: string | null };
  action: string;
  workspaceId: string | null;
  target: { type: string; id: string } | null;
  details: Record<string, unknown>;
}

/** `GET /api/system/ops/context` (src/http/system-names.ts): names and the worker of a run. */
export interface RunContext {
  runId: string;
  workspace: { id: string; slug: string; name: string };
  tenant: { id: string; slug: string; name: string } | null;
  worker: {
    id: string;
    host: string | null;
    lastSeenAt: string | null;
    stoppedAt: string | null;
  } | null;
}
