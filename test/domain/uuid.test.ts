import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from '../../src/domain/uuid.js';

describe('uuidv7', () => {
  it('has version 7 and the RFC 9562 variant', () => {
    const id = uuidv7();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('encodes the millisecond timestamp first, so ids sort by time', () => {
    const ms = Date.parse('2026-11-22T10:00:00.000Z');
    expect(Number.parseInt(uuidv7(ms).replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
    expect(uuidv7(ms) < uuidv7(ms + 1)).toBe(true);
  });

  it('stays strictly increasing within one millisecond', () => {
    const ids = Array.from({ length: 1_000 }, () => uuidv7(1_800_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
