import { randomBytes } from 'node:crypto';

let lastMs = -1;
let sequence = 0;

/**
 * UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids sort by creation
 * time and the list index stays append-mostly. Within one millisecond a 12-bit counter in
 * `rand_a` keeps ids from this process strictly increasing.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  if (now === lastMs) {
    sequence = (sequence + 1) & 0xfff;
  } else {
    lastMs = now;
    sequence = bytes.readUInt16BE(6) & 0x7ff; // start low so the counter rarely wraps
  }
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
