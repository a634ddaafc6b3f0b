import { describe, expect, it } from 'vitest';
import { TerminalCountsCache } from '../../src/lifecycle/summary.js';

const counts = (n: number) => ({ reconciled24h: String(n), followUp7d: '0', succeeded7d: '0' });

describe('TerminalCountsCache', () => {
  it('counts once per scope within the TTL, then again', async () => {
    const cache = new TerminalCountsCache(5_000);
    let loads = 0;
    const load = async () => counts(++loads);
    const t0 = new Date('2026-11-01T12:00:00Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);
    expect((await cache.get('ws:*', t0, load)).reconciled24h).toBe('1');
    expect((await cache.get('ws:*', at(4_999), load)).reconciled24h).toBe('1');
    expect((await cache.get('ws:tenant-a', at(10), load)).reconciled24h).toBe('2');
    expect((await cache.get('ws:*', at(5_000), load)).reconciled24h).toBe('3');
    expect(loads).toBe(3);
  });

  it('shares one count among concurrent requests and forgets a failed one', async () => {
    const cache = new TerminalCountsCache(5_000);
    let loads = 0;
    const now = new Date();
    const failing = () => {
      loads++;
      return Promise.reject(new Error('database gone'));
    };
    await expect(cache.get('k', now, failing)).rejects.toThrow('database gone');
    const ok = async () => counts(++loads);
    const [a, b] = await Promise.all([cache.get('k', now, ok), cache.get('k', now, ok)]);
    expect(a).toBe(b);
    expect(loads).toBe(2);
  });
});
