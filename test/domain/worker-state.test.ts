import { describe, expect, it } from 'vitest';
import { workerLossWindowMs, workerState } from '../../src/domain/worker-state.js';

const now = new Date('2026-05-01T12:00:00.000Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('a worker state', () => {
  it('is alive within 3 of its beats, silent from the first millisecond past them', () => {
    const beat = { stopped_at: null, heartbeat_ms: 1_000 };
    expect(workerState({ ...beat, last_seen_at: ago(0) }, now)).toBe('alive');
    expect(workerState({ ...beat, last_seen_at: ago(3_000) }, now)).toBe('alive');
    expect(workerState({ ...beat, last_seen_at: ago(3_001) }, now)).toBe('silent');
    expect(workerState({ ...beat, last_seen_at: ago(3_600_000) }, now)).toBe('silent');
  });

  it('is stopped once it stopped or was declared dead, however recently it was seen', () => {
    expect(
      workerState({ last_seen_at: ago(0), stopped_at: ago(0), heartbeat_ms: 1_000 }, now),
    ).toBe('stopped');
  });

  it('reads a row without a beat interval (before migration 0016) as beating every 5 s', () => {
    expect(workerLossWindowMs(null)).toBe(15_000);
    const legacy = { stopped_at: null, heartbeat_ms: null };
    expect(workerState({ ...legacy, last_seen_at: ago(15_000) }, now)).toBe('alive');
    expect(workerState({ ...legacy, last_seen_at: ago(15_001) }, now)).toBe('silent');
  });
});
