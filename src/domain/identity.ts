import { createHash } from 'node:crypto';

/**
 * Stable JSON: object keys sorted, `undefined` dropped, numbers and strings in one canonical
 * form, dates as ISO-8601 UTC. Two inputs that mean the same thing serialize identically.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(normalize(value, new Set()));
}

function normalize(value: unknown, seen: Set<object>): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return value.normalize('NFC');
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`identity values must be finite: ${value}`);
      return Object.is(value, -0) ? 0 : value;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw new TypeError(`identity values cannot hold a ${typeof value}`);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new TypeError('identity values cannot hold an invalid date');
    return value.toISOString();
  }
  if (seen.has(value)) throw new TypeError('identity values cannot be circular');
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => normalize(item, seen));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key.normalize('NFC')] = normalize(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export interface IdentitySubject {
  type: string;
  workspaceId: string;
  tenantId: string | null;
  /** What makes two starts "the same" (the type's `identity(input)`); never the initiator. */
  identity: unknown;
}

/** sha256 hex of the stable JSON of {type, workspace, tenant, identity inputs}. */
export function identityHash(subject: IdentitySubject): string {
  const canonical = stableJson({
    type: subject.type,
    workspace: subject.workspaceId.toLowerCase(),
    tenant: subject.tenantId?.toLowerCase() ?? null,
    identity: subject.identity ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
