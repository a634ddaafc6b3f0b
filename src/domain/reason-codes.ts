/** Stable reason codes (DESIGN §7). Copy for people lives with the truth derivation. */
export const REASON_CODES = [
  'run.stale_queued',
  'run.stale_running',
  'run.heartbeat_lost',
  'queue.attempts_exhausted',
  'queue.timeout',
  'gate.tenant_inactive',
  'gate.initiator_unauthorized',
  'run.cancelled',
  'run.expired',
  'adapter.source_failed',
  'handler.error',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export function isReasonCode(value: string): value is ReasonCode {
  return (REASON_CODES as readonly string[]).includes(value);
}
