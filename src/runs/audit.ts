import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface AuditEntry {
  /** `service:<name>`: a service token (DESIGN §10), which is nobody in person. */
  actor: { userId: string | null; kind: 'user' | 'token' | 'system' | `service:${string}` };
  action: string;
  workspaceId?: string | null;
  target?: { type: string; id: string };
  details?: Record<string, unknown>;
}

/** Who did what, when (DESIGN §10): starts, cancels, retries, triage, tokens, logins. */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: new Date(),
      actor_user_id: entry.actor.userId,
      actor_kind: entry.actor.kind,
      action: entry.action,
      workspace_id: entry.workspaceId ?? null,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}
