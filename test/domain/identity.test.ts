import { describe, expect, it } from 'vitest';
import { identityHash, stableJson } from '../../src/domain/identity.js';

const base = { type: 'inventory.sync', workspaceId: 'W1', tenantId: 'T1' };

describe('stableJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(stableJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"x":2,"z":1}]},"b":1}',
    );
  });

  it('normalizes numbers, strings and dates', () => {
    expect(stableJson({ n: 1.0, m: -0, e: 1e3 })).toBe(stableJson({ e: 1000, m: 0, n: 1 }));
    // "é" precomposed vs e + combining accent
    expect(stableJson('caf\u00e9')).toBe(stableJson('cafe\u0301'));
    expect(stableJson(new Date('2026-01-02T03:04:05+02:00'))).toBe('"2026-01-02T01:04:05.000Z"');
    expect(stableJson(10n)).toBe('10');
  });

  it('rejects values with no stable form', () => {
    expect(() => stableJson({ n: Number.NaN })).toThrow(/finite/);
    expect(() => stableJson({ f: () => 1 })).toThrow(/function/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => stableJson(loop)).toThrow(/circular/);
  });
});

describe('identityHash', () => {
  it('is a sha256 hex digest stable across key order and number forms', () => {
    const a = identityHash({ ...base, identity: { scope: 'all', limit: 10, tags: ['x'] } });
    const b = identityHash({ ...base, identity: { tags: ['x'], limit: 10.0, scope: 'all' } });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(b);
  });

  it('never includes the initiator: two people starting the same thing get the same hash', () => {
    const alice = { ...base, identity: { scope: 'all' }, initiatorUserId: 'alice' };
    const bob = { ...base, identity: { scope: 'all' }, initiatorUserId: 'bob' };
    expect(identityHash(alice)).toBe(identityHash(bob));
  });

  it('separates type, workspace, tenant and identity inputs', () => {
    const h = identityHash({ ...base, identity: { scope: 'all' } });
    expect(identityHash({ ...base, type: 'policy.sync', identity: { scope: 'all' } })).not.toBe(h);
    expect(identityHash({ ...base, workspaceId: 'W2', identity: { scope: 'all' } })).not.toBe(h);
    expect(identityHash({ ...base, tenantId: null, identity: { scope: 'all' } })).not.toBe(h);
    expect(identityHash({ ...base, identity: { scope: 'policies' } })).not.toBe(h);
  });

  it('treats id case and missing identity consistently', () => {
    expect(identityHash({ ...base, workspaceId: 'w1', tenantId: 't1', identity: {} })).toBe(
      identityHash({ ...base, identity: {} }),
    );
    expect(identityHash({ ...base, identity: undefined })).toBe(
      identityHash({ ...base, identity: null }),
    );
  });
});
