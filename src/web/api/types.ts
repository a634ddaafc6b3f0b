// The API's own response types (src/http/schemas.ts), so the pages and the server cannot drift.

export type { ListBucket } from '../../domain/buckets';
export type {
  Me,
  Notification,
  OperationType,
  RunDetail,
  RunView,
  Summary,
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
