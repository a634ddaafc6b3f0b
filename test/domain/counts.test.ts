import { describe, expect, it } from 'vitest';
import { validateCounts } from '../../src/domain/counts.js';

describe('validateCounts', () => {
  it.each([
    [{}],
    [{ items: 0 }],
    [{ items: 120, failed: 3, policies_synced: Number.MAX_SAFE_INTEGER }],
    [Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i]))],
  ])('accepts %j', (counts) => {
    expect(validateCounts(counts)).toEqual(counts);
  });

  it.each([
    [null, /object/],
    [[1, 2], /object/],
    ['{"items":1}', /object/],
    [{ items: -1 }, /"items" must be a non-negative integer, got -1/],
    [{ items: 1.5 }, /got 1.5/],
    [{ items: '12' }, /the string "12"/],
    [{ items: Number.NaN }, /got NaN/],
    [{ items: Number.POSITIVE_INFINITY }, /got Infinity/],
    [{ items: 2 ** 53 }, /non-negative integer/],
    [{ items: null }, /got null/],
    [{ items: { nested: 1 } }, /got a object/],
    [{ Items: 1 }, /key "Items"/],
    [{ 'items-failed': 1 }, /key "items-failed"/],
    [{ '1st': 1 }, /key "1st"/],
    [{ ['x'.repeat(65)]: 1 }, /must match/],
    [{ __proto__x: 1 }, /key "__proto__x"/],
    [
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
      /at most 64 keys, got 65/,
    ],
  ])('rejects %j', (counts, message) => {
    expect(() => validateCounts(counts)).toThrow(message);
    try {
      validateCounts(counts);
    } catch (error) {
      expect((error as { code: string }).code).toBe('invalid_counts');
    }
  });
});
