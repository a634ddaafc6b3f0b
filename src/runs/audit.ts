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
  await recordAudits(db, [entry]);
}

/** Many entries in one statement (a bulk action audits each run it changed). */
export async function recordAudits(db: Kysely<Database>, entries: readonly AuditEntry[]) {
  if (entries.length === 0) return;
  const at = new Date();
  await db
    .insertInto('audit_log')
    .values(
      entries.map((entry) => ({
        at,
        actor_user_id: entry.actor.userId,
        actor_kind: entry.actor.kind,
        action: entry.action,
        workspace_id: entry.workspaceId ?? null,
        target_type: entry.target?.type ?? null,
        target_id: entry.target?.id ?? null,
        details: JSON.stringify(entry.details ?? {}),
      })),
    )
    .execute();
}
