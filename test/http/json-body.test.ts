import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from '../../src/http/json-body.js';

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1},"c":{"b":2}}', undefined],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['{"a":["a","a"],"b":"a"}', undefined],
    ['[{"x":1},{"x":2}]', undefined],
    ['{"k\\"q":1,"k\\"q":2}', 'k"q'],
    ['{"\\u0061":1,"a":2}', 'a'],
    ['{"a":"}","a":1}', 'a'],
  ])('%s → %s', (text, expected) => {
    JSON.parse(text);
    expect(findDuplicateKey(text)).toBe(expected);
  });
});
